"""Visitors: users of a peer shard watching, chatting and gifting in this shard's rooms.

A visitor authenticates with their home shard's token (verified with the peer key from the
signed map). Here they get a mirror users row, id `<user>@<home shard>`, built from the
claims their home shard signed (name, country, OG level, adult or not). The mirror is what
rooms, chat, moderation and gift boards join on, so all of them work unchanged; a local ban
of the mirror keeps the visitor out of this shard's rooms. It holds no coins and cannot log
in (no password); account routes send the visitor home (placement.py).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from ..accounts import users
from ..accounts.service import Principal
from ..accounts.tokens import Claims
from ..errors import Forbidden, Unauthorized
from ..infra.clock import Clock, iso

NO_PASSWORD = "!visitor: no password on this shard"


def visitor_id(home: str, user_id: str) -> str:
    return f"{user_id}@{home}"


def _birth_date(adult: bool, today: date) -> str:
    # We know only adult or not: take the youngest age that fits, so age rules err on the safe side.
    years = 18 if adult else 13
    try:
        return today.replace(year=today.year - years).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28).isoformat()


def upsert(
    conn: sqlite3.Connection,
    home: str,
    user_id: str,
    profile: dict[str, Any],
    now: datetime,
    og_expires: str | None = None,
) -> sqlite3.Row:
    """Create or refresh the mirror row of a peer shard's user (write unit)."""
    vid = visitor_id(home, user_id)
    name = f"{str(profile.get('name') or user_id)[:40]}@{home}"
    og = int(profile.get("og") or 0)
    og = og if 0 <= og <= 5 else 0
    country = str(profile.get("cty") or "").upper()[:2] or "ZZ"
    stamp = iso(now)
    conn.execute(
        "INSERT INTO users(id, username, email, password_hash, country, birth_date, role, og_level, og_expires_at, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,'user',?,?,?,?) "
        "ON CONFLICT(id) DO UPDATE SET username = excluded.username, og_level = excluded.og_level, "
        "og_expires_at = excluded.og_expires_at, updated_at = excluded.updated_at",
        (
            vid,
            name,
            f"{user_id}@{home}.visitor.invalid",
            NO_PASSWORD,
            country,
            _birth_date(bool(profile.get("adult")), now.date()),
            og,
            og_expires if og else None,
            stamp,
            stamp,
        ),
    )
    return conn.execute("SELECT * FROM users WHERE id = ?", (vid,)).fetchone()


class Visitors:
    """Accounts.visitor_of for a sharded deployment."""

    def __init__(self, db, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def principal(self, claims: Claims) -> Principal:
        if claims.visitor is None:
            raise Unauthorized("this peer shard's token carries no visitor profile", code="invalid_token")
        vid = visitor_id(claims.issuer, claims.user_id)
        row = self.db.inline.one("SELECT * FROM users WHERE id = ?", (vid,))
        want_name = f"{str(claims.visitor.get('name') or claims.user_id)[:40]}@{claims.issuer}"
        if row is None or row["username"] != want_name or row["og_level"] != int(claims.visitor.get("og") or 0):
            # First visit (or the profile changed at home): one small write, once per visitor.
            now = self.clock.now()
            expires = iso(datetime.fromtimestamp(claims.expires, tz=now.tzinfo))
            row = self.db.writer.write_sync(
                lambda conn: upsert(conn, claims.issuer, claims.user_id, claims.visitor, now, expires)
            )
        blocked = users.is_blocked(row, self.clock.now())
        if blocked:
            raise Forbidden(blocked, code="account_blocked")
        return Principal(vid, claims.session_id, "user", "", row["username"], row)
