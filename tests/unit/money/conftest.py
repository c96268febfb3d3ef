import pytest

from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy
from halobuzz.infra.clock import FrozenClock
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet
from tests.support.template import migrated_db
from tests.support.world import T0
from tests.support.world import World as BaseWorld

POLICY = GiftPolicy(fee_bps=3000, hold_days=7, combo_seconds=5, spend=wallet.SpendPolicy(0, 2000))


class World(BaseWorld):
    def grant(self, user, amount, bucket="paid"):
        self.n += 1
        wallet.adjust(self.conn, f"grant-{self.n}", user, amount, bucket, "test", self.clock.now())

    def view(self, user):
        return wallet.view(self.conn, user)


@pytest.fixture()
def world(tmp_path):
    conn = migrated_db(tmp_path / "money.db")
    clock = FrozenClock(T0)
    catalog.seed(conn, catalog.load_seed(assets_dir()), clock.now())
    yield World(conn, clock)
    conn.close()
