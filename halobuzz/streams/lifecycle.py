"""Stream rows and their lifecycle: pending → live → ended. Write units take a connection.

The money core updates `streams.total_coins` inside its gift transaction and reads
`status`/`host_id`; everything else on the row is written here.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..infra.clock import iso, parse_iso
from ..infra.text import refuse_controls

STATUSES = ("pending", "live", "ended")
TITLE_MAX = 120
CATEGORY_MAX = 40


def validate_new(title: str, category: str | None) -> tuple[str, str | None]:
    title = refuse_controls(" ".join(title.split()), "title")
    if not title:
        raise Invalid("title must not be empty", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"title is longer than {TITLE_MAX} characters", field="title")
    if category is not None:
        category = refuse_controls(category.strip().lower(), "category") or None
        if category and len(category) > CATEGORY_MAX:
            raise Invalid(f"category is longer than {CATEGORY_MAX} characters", field="category")
    return title, category


def get(conn: sqlite3.Connection, stream_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM streams WHERE id = ?", (stream_id,)).fetchone()
    if row is None:
        raise NotFound("no such stream", field="streamId")
    return row


def create(
    conn: sqlite3.Connection,
    *,
    stream_id: str,
    host_id: str,
    title: str,
    category: str | None,
    country: str,
    now: datetime,
) -> sqlite3.Row:
    conn.execute(
        "INSERT INTO streams(id, host_id, title, category, country, status, created_at) "
        "VALUES (?,?,?,?,?, 'pending', ?)",
        (stream_id, host_id, title, category, country, iso(now)),
    )
    return get(conn, stream_id)


def start(conn: sqlite3.Connection, stream_id: str, host_id: str, now: datetime) -> sqlite3.Row:
    row = get(conn, stream_id)
    if row["host_id"] != host_id:
        raise Forbidden("only the host can start this stream", code="not_host")
    if row["status"] != "pending":
        raise Conflict(f"the stream is {row['status']}, it can start only when pending", code="bad_state")
    other = conn.execute("SELECT id FROM streams WHERE host_id = ? AND status = 'live'", (host_id,)).fetchone()
    if other:
        raise Conflict(
            "you are already live in another stream; end it first", code="already_live", extra={"streamId": other["id"]}
        )
    conn.execute(
        "UPDATE streams SET status='live', started_at=?, last_heartbeat_at=? WHERE id=?",
        (iso(now), iso(now), stream_id),
    )
    return get(conn, stream_id)


def end(
    conn: sqlite3.Connection,
    stream_id: str,
    now: datetime,
    reason: str,
    analytics: dict[str, Any] | None = None,
    *,
    host_id: str | None = None,
) -> sqlite3.Row:
    """End a pending or live stream and store its analytics. `host_id` given = only that host may."""
    row = get(conn, stream_id)
    if host_id is not None and row["host_id"] != host_id:
        raise Forbidden("only the host can end this stream", code="not_host")
    if row["status"] == "ended":
        raise Conflict("the stream has already ended", code="bad_state")
    a = analytics or {}
    started = parse_iso(row["started_at"])
    duration = int((now - started).total_seconds()) if started else 0
    conn.execute(
        "UPDATE streams SET status='ended', ended_at=?, ended_reason=?, duration_seconds=?, "
        "peak_viewers=MAX(peak_viewers, ?), unique_viewers=MAX(unique_viewers, ?), chat_count=chat_count+?, "
        "likes=likes+?, gifts_json=? WHERE id=?",
        (
            iso(now),
            reason,
            max(0, duration),
            int(a.get("peakViewers", 0)),
            int(a.get("uniqueViewers", 0)),
            int(a.get("chatCount", 0)),
            int(a.get("likes", 0)),
            json.dumps(a.get("gifts", {}), sort_keys=True),
            stream_id,
        ),
    )
    return get(conn, stream_id)


def heartbeat(conn: sqlite3.Connection, stream_id: str, now: datetime) -> None:
    conn.execute("UPDATE streams SET last_heartbeat_at=? WHERE id=? AND status='live'", (iso(now), stream_id))


def set_controls(
    conn: sqlite3.Connection,
    stream_id: str,
    *,
    slow_mode_seconds: int | None = None,
    chat_enabled: bool | None = None,
    pinned_message_id: str | None | bool = False,
) -> sqlite3.Row:
    """Host controls kept on the row. pinned_message_id=False means 'leave as is', None unpins."""
    if slow_mode_seconds is not None:
        conn.execute("UPDATE streams SET slow_mode_seconds=? WHERE id=?", (slow_mode_seconds, stream_id))
    if chat_enabled is not None:
        conn.execute("UPDATE streams SET chat_enabled=? WHERE id=?", (1 if chat_enabled else 0, stream_id))
    if pinned_message_id is not False:
        conn.execute("UPDATE streams SET pinned_message_id=? WHERE id=?", (pinned_message_id, stream_id))
    return get(conn, stream_id)


def to_json(row: sqlite3.Row, host: sqlite3.Row | None = None, live: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract's stream shape. `live` overlays in-memory numbers while the stream is live."""
    out: dict[str, Any] = {
        "id": row["id"],
        "hostId": row["host_id"],
        "title": row["title"],
        "category": row["category"],
        "country": row["country"],
        "status": row["status"],
        "totalCoins": row["total_coins"],
        "createdAt": row["created_at"],
        "startedAt": row["started_at"],
        "endedAt": row["ended_at"],
        "endedReason": row["ended_reason"],
        "viewers": 0,
        "slowModeSeconds": row["slow_mode_seconds"],
        "chatEnabled": bool(row["chat_enabled"]),
        "pinnedMessageId": row["pinned_message_id"],
        "analytics": {
            "peakViewers": row["peak_viewers"],
            "uniqueViewers": row["unique_viewers"],
            "durationSeconds": row["duration_seconds"],
            "chatCount": row["chat_count"],
            "likes": row["likes"],
            "gifts": json.loads(row["gifts_json"] or "{}"),
            "totalCoins": row["total_coins"],
        },
    }
    if host is not None:
        out["host"] = {"id": host["id"], "username": host["username"], "ogLevel": host["og_level"]}
    if live:
        out["viewers"] = live.get("viewers", 0)
        out["analytics"].update({k: v for k, v in live.items() if k in out["analytics"]})
        if "throne" in live:
            out["throne"] = live["throne"]
    return out
