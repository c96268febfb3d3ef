"""Room moderation kept per host: moderators, timed mutes, bans (kicks are short bans).

Rows live in SQLite; `RoomPolicies` caches each host's set in memory (loaded on first
use, updated by the same process's writes), so the chat hot path reads no database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..infra.clock import iso, parse_iso

KICK_SECONDS = 300  # a kick keeps the user out of the host's rooms for 5 minutes


@dataclass
class RoomPolicy:
    host_id: str
    moderators: set[str] = field(default_factory=set)
    mutes: dict[str, float | None] = field(default_factory=dict)  # user -> until (unix) or None = indefinite
    bans: dict[str, float | None] = field(default_factory=dict)
    kicks: set[str] = field(default_factory=set)  # users whose current ban is a kick

    @staticmethod
    def _active(table: dict[str, float | None], user_id: str, now: float) -> float | None | bool:
        if user_id not in table:
            return False
        until = table[user_id]
        if until is not None and until <= now:
            del table[user_id]
            return False
        return until if until is not None else True

    def muted(self, user_id: str, now: float):
        return self._active(self.mutes, user_id, now)

    def banned(self, user_id: str, now: float):
        return self._active(self.bans, user_id, now)

    def can_moderate(self, user_id: str) -> bool:
        return user_id == self.host_id or user_id in self.moderators


def load(conn: sqlite3.Connection, host_id: str) -> RoomPolicy:
    pol = RoomPolicy(host_id)
    for r in conn.execute("SELECT user_id FROM room_moderators WHERE host_id = ?", (host_id,)):
        pol.moderators.add(r[0])
    for r in conn.execute("SELECT user_id, kind, until, created_at FROM room_sanctions WHERE host_id = ?", (host_id,)):
        until = parse_iso(r[2])
        (pol.mutes if r[1] == "mute" else pol.bans)[r[0]] = until.timestamp() if until else None
        if r[1] == "ban" and until is not None and is_kick(parse_iso(r[3]), until):
            pol.kicks.add(r[0])
    return pol


def is_kick(created: datetime | None, until: datetime) -> bool:
    """A kick is stored as a ban of exactly KICK_SECONDS."""
    return created is not None and (until - created).total_seconds() == KICK_SECONDS


def add_moderator(conn: sqlite3.Connection, host_id: str, user_id: str, now: datetime) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO room_moderators(host_id, user_id, added_at) VALUES (?,?,?)", (host_id, user_id, iso(now))
    )


def remove_moderator(conn: sqlite3.Connection, host_id: str, user_id: str) -> None:
    conn.execute("DELETE FROM room_moderators WHERE host_id = ? AND user_id = ?", (host_id, user_id))


def sanction(
    conn: sqlite3.Connection,
    host_id: str,
    user_id: str,
    kind: str,
    seconds: int | None,
    by: str,
    reason: str | None,
    now: datetime,
) -> str | None:
    until = iso(now + timedelta(seconds=seconds)) if seconds else None
    conn.execute(
        "INSERT INTO room_sanctions(host_id, user_id, kind, until, by_user_id, reason, created_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT(host_id, user_id, kind) DO UPDATE SET until=excluded.until, "
        "by_user_id=excluded.by_user_id, reason=excluded.reason, created_at=excluded.created_at",
        (host_id, user_id, kind, until, by, reason, iso(now)),
    )
    return until


def lift(conn: sqlite3.Connection, host_id: str, user_id: str, kind: str) -> None:
    conn.execute("DELETE FROM room_sanctions WHERE host_id = ? AND user_id = ? AND kind = ?", (host_id, user_id, kind))
