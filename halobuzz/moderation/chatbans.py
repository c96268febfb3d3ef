"""Platform-wide temporary chat bans from automated blocks, escalating on repeats.

Each blocked message imposes the next rung of the ladder (default 10 min, 1 h, 24 h):
the rung is the number of bans the user got within the window (default 7 days) that were not
lifted, capped at the last rung. Bans are rows in SQLite and are enforced at send time by the chat
moderator; an overturned appeal lifts the ban tied to its flag.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..infra.clock import iso, parse_iso

DEFAULT_LADDER = (600, 3600, 86400)


def parse_ladder(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(p) for p in str(text).replace(" ", "").split(",") if p)
    except ValueError:
        raise ValueError(f"ban ladder must be comma-separated seconds, got {text!r}") from None
    if not steps or any(s <= 0 for s in steps):
        raise ValueError(f"ban ladder must be positive seconds, got {text!r}")
    return steps


@dataclass(frozen=True)
class Ban:
    id: int
    level: int
    until: datetime
    seconds: int


def active_until(conn: sqlite3.Connection, user_id: str, now: datetime) -> datetime | None:
    row = conn.execute(
        "SELECT MAX(until) FROM moderation_chat_bans WHERE user_id = ? AND lifted_at IS NULL AND until > ?",
        (user_id, iso(now)),
    ).fetchone()
    return parse_iso(row[0]) if row and row[0] else None


def impose(
    conn: sqlite3.Connection,
    user_id: str,
    now: datetime,
    *,
    ladder: tuple[int, ...] = DEFAULT_LADDER,
    window_seconds: int = 7 * 86400,
    reason: str,
    flag_id: str | None = None,
) -> Ban:
    # Bans lifted on appeal or dismissal (false positives) do not count toward escalation.
    recent = conn.execute(
        "SELECT COUNT(*) FROM moderation_chat_bans WHERE user_id = ? AND starts_at > ? AND lifted_at IS NULL",
        (user_id, iso(now - timedelta(seconds=window_seconds))),
    ).fetchone()[0]
    level = min(int(recent), len(ladder) - 1)
    seconds = ladder[level]
    # A new ban starts when the current one ends (never shortens an active ban).
    current = active_until(conn, user_id, now)
    start = max(now, current) if current else now
    until = start + timedelta(seconds=seconds)
    cur = conn.execute(
        "INSERT INTO moderation_chat_bans(user_id, level, starts_at, until, reason, flag_id) VALUES (?,?,?,?,?,?)",
        (user_id, level, iso(now), iso(until), reason, flag_id),
    )
    return Ban(int(cur.lastrowid), level, until, seconds)


def lift_for_flag(conn: sqlite3.Connection, flag_id: str, by: str, now: datetime) -> int:
    cur = conn.execute(
        "UPDATE moderation_chat_bans SET lifted_at = ?, lifted_by = ? WHERE flag_id = ? AND lifted_at IS NULL",
        (iso(now), by, flag_id),
    )
    return cur.rowcount


def history(conn: sqlite3.Connection, user_id: str, limit: int = 20) -> list[dict]:
    return [
        {
            "id": r["id"],
            "level": r["level"],
            "startsAt": r["starts_at"],
            "until": r["until"],
            "reason": r["reason"],
            "flagId": r["flag_id"],
            "liftedAt": r["lifted_at"],
        }
        for r in conn.execute(
            "SELECT * FROM moderation_chat_bans WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
    ]
