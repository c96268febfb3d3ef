"""Audit log of every admin action: who, what, on what, before/after, request id, time."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is acting: an admin over the API, an operator at the CLI, or a job."""
    name: str                 # email, "cli:<os user>", or "job:<name>"
    source: str               # api | cli | job
    user_id: str | None = None
    request_id: str | None = None


def record(conn: sqlite3.Connection, actor: Actor, action: str, *, target_type: str | None = None,
           target_id: str | None = None, before: Any = None, after: Any = None, at: str) -> None:
    conn.execute(
        "INSERT INTO audit_log(at, actor_id, actor, action, target_type, target_id, before_json, "
        "after_json, request_id, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (at, actor.user_id, actor.name, action, target_type, target_id,
         None if before is None else json.dumps(before, sort_keys=True, default=str),
         None if after is None else json.dumps(after, sort_keys=True, default=str),
         actor.request_id, actor.source))


def entries_query(*, limit: int = 50, action: str | None = None, target_id: str | None = None,
                  before_id: int | None = None) -> tuple[str, list[Any]]:
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
        "id": r["id"], "at": r["at"], "actor": r["actor"], "actorId": r["actor_id"],
        "action": r["action"], "targetType": r["target_type"], "targetId": r["target_id"],
        "before": json.loads(r["before_json"]) if r["before_json"] else None,
        "after": json.loads(r["after_json"]) if r["after_json"] else None,
        "requestId": r["request_id"], "source": r["source"],
    }
