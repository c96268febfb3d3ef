import pytest

from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy
from halobuzz.infra.clock import FrozenClock
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet
from tests.support.world import T0, World as BaseWorld

POLICY = GiftPolicy(fee_bps=3000, hold_days=7, combo_seconds=5, spend=wallet.SpendPolicy(0, 2000))


class World(BaseWorld):
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
