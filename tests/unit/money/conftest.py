from datetime import datetime, timezone

import pytest

from halobuzz.accounts import users
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy
from halobuzz.infra.clock import FrozenClock, iso
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
POLICY = GiftPolicy(fee_bps=3000, hold_days=7, combo_seconds=5, spend=wallet.SpendPolicy(0, 2000))


class World:
    def __init__(self, conn, clock):
        self.conn, self.clock, self.n = conn, clock, 0

    def user(self, name=None, birth="1990-01-01", role="user"):
        self.n += 1
        uid = f"U{self.n:04d}"
        users.insert_user(self.conn, uid, users.NewUser(f"{uid}@x.io", name or f"user{self.n}", "pw",
                                                        "NP", birth), "hash", self.clock.now(), role)
        return uid

    def stream(self, host, status="live"):
        self.n += 1
        sid = f"S{self.n:04d}"
        self.conn.execute("INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES (?,?,?,?,?,?)",
                          (sid, host, "t", "NP", status, iso(self.clock.now())))
        return sid

    def grant(self, user, amount, bucket="paid"):
        self.n += 1
        wallet.adjust(self.conn, f"grant-{self.n}", user, amount, bucket, "test", self.clock.now())

    def view(self, user):
        return wallet.view(self.conn, user)


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "money.db", synchronous="OFF")
    migrate(conn)
    clock = FrozenClock(T0)
    catalog.seed(conn, catalog.load_seed(assets_dir()), clock.now())
    yield World(conn, clock)
    conn.close()
