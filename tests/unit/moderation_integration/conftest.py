import pytest

from halobuzz.accounts.audit import Actor
from halobuzz.infra.clock import FrozenClock, iso
from tests.support.template import migrated_db
from tests.support.world import T0
from tests.support.world import World as BaseWorld

MOD = Actor(name="mod@x.io", source="api", user_id="MOD")


class World(BaseWorld):
    def message(self, user, stream, text="hi", status="visible"):
        self.n += 1
        mid = f"M{self.n:04d}"
        self.conn.execute(
            "INSERT INTO chat_messages(id, stream_id, user_id, text, created_at, status) VALUES (?,?,?,?,?,?)",
            (mid, stream, user, text, iso(self.clock.now()), status),
        )
        return mid

    def trust(self, user):
        return self.conn.execute("SELECT trust_score FROM users WHERE id = ?", (user,)).fetchone()[0]


@pytest.fixture()
def world(tmp_path):
    conn = migrated_db(tmp_path / "mod.db")
    w = World(conn, FrozenClock(T0))
    w.user(role="moderator")  # U0001
    conn.execute("UPDATE users SET id = 'MOD' WHERE id = 'U0001'")
    yield w
    conn.close()
