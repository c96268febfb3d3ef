"""Random operation sequences: coins are never created or destroyed and no paid balance goes negative."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.errors import DomainError
from halobuzz.gifts import catalog
from halobuzz.gifts.send import send_gift
from halobuzz.infra.clock import FrozenClock
from halobuzz.og import bonus, subscribe, tiers
from halobuzz.resources import assets_dir
from halobuzz.wallet import ledger, wallet

from .conftest import POLICY, T0, World

GIFTS = ["rose", "heart", "momo", "rhino", "himalaya", "crown"]
op = st.one_of(
    st.tuples(st.just("grant"), st.integers(0, 3), st.integers(1, 5000), st.sampled_from(["paid", "bonus"])),
    st.tuples(st.just("gift"), st.integers(0, 3), st.sampled_from(GIFTS), st.integers(-2, 30)),
    st.tuples(st.just("og"), st.integers(0, 3), st.integers(1, 5)),
    st.tuples(st.just("tick"), st.integers(0, 3 * 86400)),
    st.tuples(st.just("payout"), st.integers(0, 3), st.integers(1, 3000)),
    st.tuples(st.just("limit"), st.integers(0, 3), st.integers(0, 3000)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(op, min_size=1, max_size=40))
def test_random_operations_keep_the_books(tmp_path_factory, ops):
    conn = connect(tmp_path_factory.mktemp("p") / "p.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(T0))
    catalog.seed(conn, catalog.load_seed(assets_dir()), w.clock.now())
    people = [w.user() for _ in range(4)]
    stream = w.stream(people[0])
    table = tiers.load()
    for i, o in enumerate(ops):
        conn.execute("SAVEPOINT op")  # what the writer does for each unit
        try:
            kind = o[0]
            if kind == "grant":
                w.grant(people[o[1]], o[2], o[3])
            elif kind == "gift":
                send_gift(conn, sender_id=people[o[1]], stream_id=stream, gift_id=o[2], quantity=o[3],
                          key=f"g{i}", policy=POLICY, now=w.clock.now())
            elif kind == "og":
                subscribe.subscribe(conn, user_id=people[o[1]], tier=table[o[2]], key=f"o{i}", sub_id=f"s{i}",
                                    now=w.clock.now(), spend=POLICY.spend)
            elif kind == "tick":
                w.clock.advance(seconds=o[1])
                bonus.pay_daily_bonuses(conn, w.clock.now())
                bonus.expire_tiers(conn, w.clock.now())
                wallet.release_due_holds(conn, w.clock.now())
            elif kind == "payout":
                wallet.request_payout(conn, f"p{i}", people[o[1]], o[2], w.clock.now())
            elif kind == "limit":
                wallet.set_daily_limit(conn, people[o[1]], o[2])
        except DomainError:
            conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        assert conn.execute("SELECT COALESCE(SUM(balance),0) FROM ledger_accounts").fetchone()[0] == 0
        negative = conn.execute("SELECT id, balance FROM ledger_accounts WHERE bucket <> 'system' AND balance < 0").fetchall()
        assert not negative, [tuple(r) for r in negative]
    assert ledger.verify_balances(conn) == []
    assert ledger.verify_chain(conn) == []
    conn.close()
