"""Money-path review (payments): a Stripe dispute closed as lost must leave the coins clawed back,
whichever of its events reached us."""

from halobuzz.payments import settle, store
from halobuzz.wallet import ledger
from tests.unit.payments.test_settle import (  # noqa: F401
    T0,
    db,  # noqa: F401  (fixture)
    done,
    paid,
)


def test_dispute_lost_without_the_opening_event_still_claws_back(db):  # noqa: F811
    """charge.dispute.created / funds_withdrawn never processed (endpoint not subscribed to them,
    or their deliveries failed past Stripe's retries); charge.dispute.closed (lost) arrives: the
    card network took the money back, so the coins must go too."""
    conn, ctx, user, order = db
    buyer = user()
    o = order(buyer, "usd-5", gateway="stripe")
    settle.apply(conn, o, done(500, "USD"), T0, ctx)
    coins = store.get(conn, o)["coins"]
    assert paid(conn, buyer) == coins
    out = settle.dispute(conn, store.get(conn, o), "dp_9", 500, "lost", T0)
    assert paid(conn, buyer) == 0, out.verdict
    assert store.get(conn, o)["status"] == "refunded" and store.get(conn, o)["clawed_coins"] == coins
    again = settle.dispute(conn, store.get(conn, o), "dp_9", 500, "lost", T0)
    assert again.verdict == "duplicate" and paid(conn, buyer) == 0
    assert ledger.verify_balances(conn) == [] and ledger.verify_chain(conn) == []


def test_dispute_lost_on_a_refunded_order_takes_nothing_more(db):  # noqa: F811
    conn, ctx, user, order = db
    buyer = user()
    o = order(buyer, "usd-5", gateway="stripe")
    settle.apply(conn, o, done(500, "USD"), T0, ctx)
    settle.refund_to(conn, store.get(conn, o), 500, "clawback:stripe:ch_1:500", "refund", T0)
    assert paid(conn, buyer) == 0
    settle.dispute(conn, store.get(conn, o), "dp_8", 500, "lost", T0)
    assert paid(conn, buyer) == 0 and store.get(conn, o)["status"] == "refunded"
    assert store.get(conn, o)["clawed_coins"] == store.get(conn, o)["coins"]
    assert ledger.verify_balances(conn) == []


def test_dispute_closed_lost_before_its_opening_event_claws_back_once(db):  # noqa: F811
    """Stripe does not order webhooks: closed(lost) first, then created/funds_withdrawn."""
    conn, ctx, user, order = db
    buyer = user()
    o = order(buyer, "usd-5", gateway="stripe")
    settle.apply(conn, o, done(500, "USD"), T0, ctx)
    settle.dispute(conn, store.get(conn, o), "dp_7", 500, "lost", T0)
    for _ in range(2):
        assert settle.dispute(conn, store.get(conn, o), "dp_7", 500, "open", T0).verdict == "duplicate"
    assert paid(conn, buyer) == 0 and store.get(conn, o)["status"] == "refunded"
    assert ledger.verify_balances(conn) == []


def test_dispute_won_before_its_opening_event_leaves_the_coins(db):  # noqa: F811
    """Stripe does not order webhooks: closed(won) first, then created/funds_withdrawn."""
    conn, ctx, user, order = db
    buyer = user()
    o = order(buyer, "usd-5", gateway="stripe")
    settle.apply(conn, o, done(500, "USD"), T0, ctx)
    settle.dispute(conn, store.get(conn, o), "dp_6", 500, "won", T0)
    for _ in range(2):
        assert settle.dispute(conn, store.get(conn, o), "dp_6", 500, "open", T0).verdict == "duplicate"
    assert paid(conn, buyer) == store.get(conn, o)["coins"] and store.get(conn, o)["status"] == "completed"
    assert ledger.verify_balances(conn) == []
