"""Audit log of every admin action: who, what, on what, before/after, request id, time.

Like the ledger, the log is append-only (triggers in migration 0008) and hash-chained: each
row carries the previous row's hash and the sha256 of its own content, so `verify` (and
`doctor`) finds an edited, inserted or deleted row. Rows from before the chain existed have
no hash and are reported as unchained, not as broken.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is acting: an admin over the API, an operator at the CLI, or a job."""

    name: str  # email, "cli:<os user>", or "job:<name>"
    source: str  # api | cli | job
    user_id: str | None = None
    request_id: str | None = None


GENESIS = "0" * 64
_CONTENT = (
    "at",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "before_json",
    "after_json",
    "request_id",
    "source",
)


def row_hash(prev: str, row_id: int, content: tuple) -> str:
    payload = json.dumps([prev, row_id, *content], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    conn: sqlite3.Connection,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    before: Any = None,
    after: Any = None,
    at: str,
) -> None:
    content = (
        at,
        actor.user_id,
        actor.name,
        action,
        target_type,
        target_id,
        None if before is None else json.dumps(before, sort_keys=True, default=str),
        None if after is None else json.dumps(after, sort_keys=True, default=str),
        actor.request_id,
        actor.source,
    )
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    row_id = last[0] + 1 if last else 1
    prev = (last[1] or GENESIS) if last else GENESIS
    conn.execute(
        "INSERT INTO audit_log(id, at, actor_id, actor, action, target_type, target_id, before_json, "
        "after_json, request_id, source, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (row_id, *content, prev, row_hash(prev, row_id, content)),
    )


def verify(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    """Walk the chain in id order. Returns (chained rows, legacy unchained rows, problems)."""
    problems: list[str] = []
    chained = legacy = 0
    prev: str | None = None  # None until the first hashed row
    expected_id: int | None = None
    for r in conn.execute(f"SELECT id, prev_hash, hash, {', '.join(_CONTENT)} FROM audit_log ORDER BY id"):
        if r["hash"] is None:
            if prev is None:
                legacy += 1
                continue
            problems.append(f"audit row {r['id']}: no hash after the chain began (inserted around the chain)")
            continue
        if prev is None:
            prev = r["prev_hash"]  # first chained row: links to GENESIS or the last legacy row
            if prev != GENESIS and legacy == 0:
                problems.append(f"audit row {r['id']}: chain does not start at the beginning (rows deleted)")
        elif expected_id is not None and r["id"] != expected_id:
            problems.append(f"audit rows {expected_id}..{r['id'] - 1}: missing (deleted)")
        if r["prev_hash"] != prev:
            problems.append(f"audit row {r['id']}: previous-hash link broken")
        if row_hash(r["prev_hash"], r["id"], tuple(r[c] for c in _CONTENT)) != r["hash"]:
            problems.append(f"audit row {r['id']}: content does not match its hash (edited)")
        prev, expected_id = r["hash"], r["id"] + 1
        chained += 1
    return chained, legacy, problems


def entries_query(
    *, limit: int = 50, action: str | None = None, target_id: str | None = None, before_id: int | None = None
) -> tuple[str, list[Any]]:
    """Newest first; filters use the (target_type, target_id) index or walk ids backwards."""
    sql = "SELECT * FROM audit_log WHERE 1=1"
    params: list[Any] = []
    if action:
        sql += " AND action = ?"
        params.append(action)
    if target_id:
        sql += " AND target_id = ?"
        params.append(target_id)
    if before_id:
        sql += " AND id < ?"
        params.append(before_id)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return sql, params


def entries(conn: sqlite3.Connection, **filters: Any) -> list[dict[str, Any]]:
    return [audit_row(r) for r in conn.execute(*entries_query(**filters))]


def audit_row(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "at": r["at"],
        "actor": r["actor"],
        "actorId": r["actor_id"],
        "action": r["action"],
        "targetType": r["target_type"],
        "targetId": r["target_id"],
        "before": json.loads(r["before_json"]) if r["before_json"] else None,
        "after": json.loads(r["after_json"]) if r["after_json"] else None,
        "requestId": r["request_id"],
        "source": r["source"],
    }
