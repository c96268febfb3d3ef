from datetime import datetime, timezone

import pytest

from halobuzz.accounts import users
from halobuzz.accounts.audit import Actor
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.infra.clock import FrozenClock, iso

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
MOD = Actor(name="mod@x.io", source="api", user_id="MOD")


class World:
    def __init__(self, conn, clock):
        self.conn, self.clock, self.n = conn, clock, 0

    def user(self, birth="1990-01-01", role="user"):
        self.n += 1
        uid = f"U{self.n:04d}"
        users.insert_user(self.conn, uid, users.NewUser(f"{uid}@x.io", f"user{self.n}", "pw", "NP", birth), "hash",
                          self.clock.now(), role)
        return uid

    def stream(self, host, status="live"):
        self.n += 1
        sid = f"S{self.n:04d}"
        self.conn.execute("INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES (?,?,?,?,?,?)",
                          (sid, host, "t", "NP", status, iso(self.clock.now())))
        return sid

    def message(self, user, stream, text="hi", status="visible"):
        self.n += 1
        mid = f"M{self.n:04d}"
        self.conn.execute("INSERT INTO chat_messages(id, stream_id, user_id, text, created_at, status) "
                          "VALUES (?,?,?,?,?,?)", (mid, stream, user, text, iso(self.clock.now()), status))
        return mid

    def trust(self, user):
        return self.conn.execute("SELECT trust_score FROM users WHERE id = ?", (user,)).fetchone()[0]


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "mod.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(T0))
    w.user(role="moderator")  # U0001
    conn.execute("UPDATE users SET id = 'MOD' WHERE id = 'U0001'")
    yield w
    conn.close()
