"""Money-path review (festivals): a purchase bonus is paid on coins the buyer still has from the
purchase, not on coins a refund already took back before the scan reached the purchase."""

from datetime import timedelta

from halobuzz.accounts import audit
from halobuzz.festivals import bonus, store
from halobuzz.payments import settle
from halobuzz.payments.gateways.base import REFUNDED, Status
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger, wallet
from tests.unit.payments.test_settle import (  # noqa: F401
    T0,
    db,  # noqa: F401  (fixture)
    done,
    paid,
)

ADMIN = audit.Actor(name="root@x.io", source="cli")


def _festival(conn):
    spec = store.FestivalSpec(
        id="spring-fest",
        kind="custom",
        name_en="Spring",
        name_ne="वसन्त",
        banner_en="Hi",
        banner_ne="नमस्ते",
        starts_local="2026-03-01T00:00",
        ends_local="2026-03-02T00:00",
        purchase_bonus_bps=5000,
    )
    store.create(conn, spec, ADMIN, T0 - timedelta(days=1))


def test_no_purchase_bonus_on_a_purchase_refunded_before_the_scan(db):  # noqa: F811
    conn, ctx, user, order = db
    _festival(conn)
    buyer = user()
    o = order(buyer, "npr-100")  # 5000 coins inside the festival
    settle.apply(conn, o, done(10000), T0, ctx)
    settle.apply(conn, o, Status(REFUNDED, "FULL_REFUND"), T0 + timedelta(minutes=1), ctx)
    assert paid(conn, buyer) == 0
    out = bonus.settle(conn, T0 + timedelta(minutes=2))
    assert out.bonuses == []
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 0
    assert ledger.verify_balances(conn) == []


def test_purchase_bonus_counts_only_what_a_partial_refund_left(db):  # noqa: F811
    conn, ctx, user, order = db
    _festival(conn)
    buyer = user()
    o = order(buyer, "npr-100")
    settle.apply(conn, o, done(10000), T0, ctx)
    from halobuzz.payments import store as pstore

    settle.refund_to(conn, pstore.get(conn, o), 4000, f"clawback:esewa:{o}:4000", "partial", T0)  # 2000 coins back
    out = bonus.settle(conn, T0 + timedelta(minutes=2))
    assert [b["coins"] for b in out.bonuses] == [1500]  # 50 % of the 3000 coins kept
    assert bonus.settle(conn, T0 + timedelta(minutes=3)).bonuses == []
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 1500


def test_refund_after_the_bonus_was_paid_takes_the_bonus_back(db):  # noqa: F811
    conn, ctx, user, order = db
    _festival(conn)
    buyer = user()
    o = order(buyer, "npr-100")
    settle.apply(conn, o, done(10000), T0, ctx)
    assert [b["coins"] for b in bonus.settle(conn, T0 + timedelta(minutes=1)).bonuses] == [2500]
    settle.apply(conn, o, Status(REFUNDED, "FULL_REFUND"), T0 + timedelta(minutes=2), ctx)
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 0


def test_a_won_dispute_gives_back_the_bonus_its_clawback_took_and_spent_bonus_stays_spent(db):  # noqa: F811
    conn, ctx, user, order = db
    _festival(conn)
    buyer = user()
    o = order(buyer, "usd-5", gateway="stripe")  # 30000 coins, +50 % = 15000 bonus
    settle.apply(conn, o, done(500, "USD"), T0, ctx)
    assert [b["coins"] for b in bonus.settle(conn, T0 + timedelta(minutes=1)).bonuses] == [15000]
    wallet.adjust(conn, "spend-some-bonus", buyer, -5000, "bonus", "spent elsewhere", T0)
    from halobuzz.payments import store as pstore

    settle.dispute(conn, pstore.get(conn, o), "dp_5", 500, "open", T0 + timedelta(minutes=2))
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 0  # 10000 left to take of 15000
    settle.dispute(conn, pstore.get(conn, o), "dp_5", 500, "won", T0 + timedelta(minutes=3))
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 10000
    assert paid(conn, buyer) == 30000
    settle.dispute(conn, pstore.get(conn, o), "dp_5", 500, "won", T0 + timedelta(minutes=4))
    assert ledger.balance(conn, A.user_account(buyer, A.BONUS)) == 10000
    assert ledger.verify_balances(conn) == [] and ledger.verify_chain(conn) == []
