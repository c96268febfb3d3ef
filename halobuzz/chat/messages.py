"""Chat message rows (write units) and their JSON shape."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from ..errors import NotFound
from ..infra.clock import iso
from .moderation import ModerationVerdict


def insert(
    conn: sqlite3.Connection,
    *,
    message_id: str,
    stream_id: str,
    user_id: str,
    text: str,
    now: datetime,
    verdict: ModerationVerdict,
) -> None:
    status = "blocked" if verdict.action == "block" else "visible"
    conn.execute(
        "INSERT INTO chat_messages(id, stream_id, user_id, text, created_at, status, moderation_action, "
        "moderation_score, moderation_model) VALUES (?,?,?,?,?,?,?,?,?)",
        (message_id, stream_id, user_id, text, iso(now), status, verdict.action, verdict.score, verdict.model_id),
    )


def mark_deleted(conn: sqlite3.Connection, message_id: str, stream_id: str, by_user: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM chat_messages WHERE id = ? AND stream_id = ?", (message_id, stream_id)).fetchone()
    if row is None or row["status"] == "blocked":
        raise NotFound("no such message in this stream", field="messageId")
    conn.execute("UPDATE chat_messages SET status='deleted', deleted_by=? WHERE id=?", (by_user, message_id))
    return row


def to_json(
    message_id: str, stream_id: str, user: dict[str, Any], text: str, ts: str, warned: bool = False
) -> dict[str, Any]:
    out = {"id": message_id, "streamId": stream_id, "user": user, "text": text, "ts": ts}
    if warned:
        out["flagged"] = True
    return out


def row_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "streamId": row["stream_id"],
        "user": {"id": row["user_id"], "username": row["username"], "ogLevel": row["og_level"]},
        "text": row["text"],
        "ts": row["created_at"],
        "status": row["status"],
    }
