"""A migrated SQLite database plus a frozen clock and helpers to make users and streams:
the shared base of the domain unit tests (no server)."""

from __future__ import annotations

from datetime import datetime, timezone

from halobuzz.accounts import users
from halobuzz.infra.clock import FrozenClock, iso
from tests.support.template import migrated_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class World:
    def __init__(self, conn, clock):
        self.conn, self.clock, self.n = conn, clock, 0

    @classmethod
    def open(cls, path) -> "World":
        return cls(migrated_db(path), FrozenClock(T0))

    def user(self, name=None, birth="1990-01-01", role="user"):
        self.n += 1
        uid = f"U{self.n:04d}"
        users.insert_user(
            self.conn,
            uid,
            users.NewUser(f"{uid}@x.io", name or f"user{self.n}", "pw", "NP", birth),
            "hash",
            self.clock.now(),
            role,
        )
        return uid

    def stream(self, host, status="live"):
        self.n += 1
        sid = f"S{self.n:04d}"
        self.conn.execute(
            "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES (?,?,?,?,?,?)",
            (sid, host, "t", "NP", status, iso(self.clock.now())),
        )
        return sid
