import itertools
import random

import pytest

from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.games.compliance import Packs
from halobuzz.games.quizbank import Bank
from halobuzz.games.rules import Rules
from halobuzz.infra.clock import FrozenClock
from halobuzz.resources import assets_dir
from halobuzz.wallet import ledger, wallet
from tests.support.world import T0
from tests.support.world import World as BaseWorld


class World(BaseWorld):
    def grant(self, user, amount=10_000):
        self.n += 1
        wallet.adjust(self.conn, f"grant-{self.n}", user, amount, "paid", "test", self.clock.now())

    def paid(self, user):
        return ledger.balance(self.conn, f"{user}:paid")

    def check_ledger(self):
        assert ledger.verify_balances(self.conn) == []
        assert ledger.verify_chain(self.conn) == []


def make_rules(seed=1, **kw):
    rng = random.Random(seed)
    counter = itertools.count(1)
    packs = Packs.load(assets_dir() / "compliance", kw.pop("overrides", {"NP": "games_of_chance=true"}))
    return Rules(
        packs=packs,
        bank=Bank.load(assets_dir() / "games" / "quiz"),
        new_id=lambda: f"R{next(counter):06d}",
        new_seed=lambda: rng.randbytes(32).hex(),
        **kw,
    )


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "games.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(T0))
    yield w
    conn.close()


@pytest.fixture()
def rules():
    return make_rules()
