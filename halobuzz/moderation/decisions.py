"""Stored automated decisions: model id, score, thresholds, action, reasons — one row each.

Written by the chat moderator (every message it scores), image uploads and selfies, so a
moderator can say why something happened and `halobuzz moderation replay` can show what a
threshold change would do, without re-scoring anything.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ..infra.clock import iso
from .policy import Decision

_INSERT = (
    "INSERT INTO moderation_decisions(at, kind, source, subject_id, user_id, model_id, score, action, threshold, "
    "warn_at, block_at, reasons_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def values(
    decision: Decision,
    *,
    kind: str,
    source: str,
    at: datetime,
    subject_id: str | None = None,
    user_id: str | None = None,
) -> tuple:
    return (
        iso(at),
        kind,
        source,
        subject_id,
        user_id,
        decision.model_id,
        float(decision.score),
        decision.action.value,
        decision.threshold,
        decision.thresholds.warn,
        decision.thresholds.block,
        json.dumps(list(decision.reasons)),
    )


def record(
    conn: sqlite3.Connection,
    decision: Decision,
    *,
    kind: str,
    source: str,
    at: datetime,
    subject_id: str | None = None,
    user_id: str | None = None,
) -> int:
    cur = conn.execute(
        _INSERT, values(decision, kind=kind, source=source, at=at, subject_id=subject_id, user_id=user_id)
    )
    return int(cur.lastrowid)


def record_many(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    """Rows from `values()`: the chat moderator buffers them and writes one unit per flush."""
    conn.executemany(_INSERT, rows)
    return len(rows)


def record_raw(
    conn: sqlite3.Connection,
    *,
    kind: str,
    source: str,
    at: datetime,
    model_id: str,
    score: float,
    action: str,
    threshold: float | None,
    warn_at: float | None,
    block_at: float | None,
    reasons: list[str],
    subject_id: str | None = None,
    user_id: str | None = None,
) -> int:
    """For decisions that are not text/image warn/block (e.g. an age review signal)."""
    cur = conn.execute(
        "INSERT INTO moderation_decisions(at, kind, source, subject_id, user_id, model_id, score, action, threshold, "
        "warn_at, block_at, reasons_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            iso(at),
            kind,
            source,
            subject_id,
            user_id,
            model_id,
            float(score),
            action,
            threshold,
            warn_at,
            block_at,
            json.dumps(list(reasons)),
        ),
    )
    return int(cur.lastrowid)


def since(
    conn: sqlite3.Connection, kind: str, since_at: datetime, *, source: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rows in the shape replay() takes: id, score, action, model_id (plus the rest), oldest first.
    With `limit`, only the newest `limit` rows."""
    sql = "SELECT * FROM moderation_decisions WHERE kind = ? AND at >= ?"
    params: list[Any] = [kind, iso(since_at)]
    if source:
        sql += " AND source = ?"
        params.append(source)
    if limit:
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [row_dict(r) for r in reversed(conn.execute(sql, params).fetchall())]
    sql += " ORDER BY id"
    return [row_dict(r) for r in conn.execute(sql, params)]


def get(conn: sqlite3.Connection, decision_id: int | None) -> dict[str, Any] | None:
    if decision_id is None:
        return None
    r = conn.execute("SELECT * FROM moderation_decisions WHERE id = ?", (decision_id,)).fetchone()
    return row_dict(r) if r else None


def row_dict(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "at": r["at"],
        "kind": r["kind"],
        "source": r["source"],
        "subject_id": r["subject_id"],
        "user_id": r["user_id"],
        "model_id": r["model_id"],
        "score": r["score"],
        "action": r["action"],
        "threshold": r["threshold"],
        "warn": r["warn_at"],
        "block": r["block_at"],
        "reasons": json.loads(r["reasons_json"] or "[]"),
    }


def to_json(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """camelCase for the API."""
    if d is None:
        return None
    return {
        "id": d["id"],
        "at": d["at"],
        "kind": d["kind"],
        "source": d["source"],
        "subjectId": d["subject_id"],
        "userId": d["user_id"],
        "modelId": d["model_id"],
        "score": round(float(d["score"]), 4),
        "action": d["action"],
        "threshold": d["threshold"],
        "thresholds": {"warn": d["warn"], "block": d["block"]},
        "reasons": d["reasons"],
    }


def prune_allowed(conn: sqlite3.Connection, before: datetime, batch: int = 5000) -> int:
    """Drop old 'allow' decisions (chat stores one per message); warn/block/review ones stay,
    and so does anything a flag points at."""
    cur = conn.execute(
        "DELETE FROM moderation_decisions WHERE id IN (SELECT id FROM moderation_decisions d WHERE d.action = 'allow' "
        "AND d.at < ? AND NOT EXISTS(SELECT 1 FROM moderation_flags f WHERE f.decision_id = d.id) "
        "AND NOT EXISTS(SELECT 1 FROM moderation_images i WHERE i.decision_id = d.id) LIMIT ?)",
        (iso(before), batch),
    )
    return cur.rowcount
