"""Exactly-once credit, amount checks and the clawback trace rule, on a real migrated database."""

from datetime import datetime, timedelta, timezone

import pytest

from halobuzz.accounts import users
from halobuzz.errors import Conflict, Forbidden
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy, send_gift
from halobuzz.infra.clock import iso
from halobuzz.og import subscribe as og_subscribe
from halobuzz.og import tiers as og_tiers
from halobuzz.payments import checkout, packs, settle, store
from halobuzz.payments.gateways.base import COMPLETED, FAILED, PENDING, REFUNDED, Status
from halobuzz.resources import assets_dir
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger, wallet
from tests.support.template import migrated_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SPEND = wallet.SpendPolicy(0, 2000)
TIERS = og_tiers.load()
PACKS = packs.load("", TIERS)


@pytest.fixture()
def db(tmp_path):
    conn = migrated_db(tmp_path / "pay.db")
    catalog.seed(conn, catalog.load_seed(assets_dir()), T0)
    n = iter(range(1, 10_000))
    ctx = settle.Ctx(TIERS, SPEND, lambda: f"ID{next(n):05d}")

    def user(birth="1990-01-01"):
        uid = ctx.new_id()
        users.insert_user(
            conn, uid, users.NewUser(f"{uid}@x.io", f"u{uid}".lower(), "pw", "NP", birth), "h", T0, "user"
        )
        return uid

    def order(uid, pack="npr-10", gateway="esewa"):
        oid = ctx.new_id()
        checkout.insert_order(
            conn, order_id=oid, user_id=uid, gateway=gateway, pack=PACKS[pack], now=T0, ttl_seconds=86400
        )
        if gateway != "esewa":
            store.update(conn, oid, T0, gateway_ref=f"ref-{oid}")
        return oid

    yield conn, ctx, user, order
    conn.close()


def paid(conn, uid):
    return ledger.balance(conn, A.user_account(uid, A.PAID))


def done(amount, currency="NPR"):
    return Status(COMPLETED, "COMPLETE", amount, currency, "REF1")


def test_credit_once_and_amount_must_match(db):
    conn, ctx, user, order = db
    u = user()
    o = order(u, "npr-100")
    assert settle.apply(conn, o, done(9999), T0, ctx).verdict == "mismatch"
    assert settle.apply(conn, o, done(10000, "USD"), T0, ctx).verdict == "mismatch"
    assert paid(conn, u) == 0 and store.get(conn, o)["needs_review"] == 1
    first = settle.apply(conn, o, done(10000), T0, ctx)
    assert first.verdict == "credited" and first.revenue == ("esewa", "NPR", 10000)
    for _ in range(5):
        assert settle.apply(conn, o, done(10000), T0, ctx).verdict == "duplicate"
    assert paid(conn, u) == 5000
    assert ledger.tx_exists(conn, f"credit:esewa:{o}")
    assert ledger.verify_balances(conn) == []


def test_pending_then_failed_never_credits(db):
    conn, ctx, user, order = db
    u = user()
    o = order(u)
    assert settle.apply(conn, o, Status(PENDING, "PENDING"), T0, ctx).verdict == "pending"
    assert settle.apply(conn, o, Status(FAILED, "CANCELED"), T0, ctx).verdict == "failed"
    assert store.get(conn, o)["status"] == "failed" and paid(conn, u) == 0


def test_minors_cannot_order(db):
    conn, ctx, user, order = db
    kid = user(birth=(T0 - timedelta(days=365 * 15)).date().isoformat())
    with pytest.raises(Forbidden):
        order(kid)


def test_refund_reverses_held_gift_earnings_and_leaves_a_debt(db):
    conn, ctx, user, order = db
    buyer, host = user(), user()
    conn.execute(
        "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES ('S1',?,?,?,?,?)",
        (host, "t", "NP", "live", iso(T0)),
    )
    o = order(buyer, "npr-100")  # 5000 coins
    settle.apply(conn, o, done(10000), T0, ctx)
    gift = conn.execute("SELECT id, price FROM gifts WHERE og_min_level = 0 ORDER BY price DESC LIMIT 1").fetchone()
    qty = 4000 // gift["price"]
    policy = GiftPolicy(3000, 7, 5, SPEND)
    out = send_gift(
        conn,
        sender_id=buyer,
        stream_id="S1",
        gift_id=gift["id"],
        quantity=qty,
        key="g1",
        policy=policy,
        now=T0 + timedelta(minutes=1),
    )
    spent = out.response["paidCoins"]
    held = ledger.balance(conn, A.user_account(host, A.HELD))
    assert held == spent - spent * 3000 // 10000
    left = 5000 - spent
    r = settle.apply(conn, o, Status(REFUNDED, "FULL_REFUND"), T0 + timedelta(days=1), ctx)
    assert r.verdict == "refunded" and r.clawed == ("esewa", 5000)
    # The clawback took 5000; what was still held for the gift returned to the buyer.
    assert ledger.balance(conn, A.user_account(host, A.HELD)) == 0
    assert paid(conn, buyer) == left - 5000 + held < 0
    trace = conn.execute("SELECT * FROM payment_clawback_traces").fetchall()
    assert len(trace) == 1 and trace[0]["attributed"] == spent and trace[0]["earnings_taken"] == held
    assert conn.execute("SELECT remaining FROM earnings_holds").fetchone()[0] == 0
    # Spending stops while the balance is negative.
    with pytest.raises(Conflict):
        send_gift(
            conn,
            sender_id=buyer,
            stream_id="S1",
            gift_id=gift["id"],
            quantity=1,
            key="g2",
            policy=policy,
            now=T0 + timedelta(days=1),
        )
    # The same refund seen again changes nothing.
    assert settle.apply(conn, o, Status(REFUNDED, "FULL_REFUND"), T0 + timedelta(days=2), ctx).verdict == "duplicate"
    assert ledger.verify_balances(conn) == [] and ledger.verify_chain(conn) == []


def test_released_earnings_are_not_taken(db):
    conn, ctx, user, order = db
    buyer, host = user(), user()
    conn.execute(
        "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES ('S1',?,?,?,?,?)",
        (host, "t", "NP", "live", iso(T0)),
    )
    o = order(buyer, "npr-10")
    settle.apply(conn, o, done(1000), T0, ctx)
    gift = conn.execute("SELECT id, price FROM gifts WHERE og_min_level = 0 ORDER BY price LIMIT 1").fetchone()
    send_gift(
        conn,
        sender_id=buyer,
        stream_id="S1",
        gift_id=gift["id"],
        quantity=500 // gift["price"],
        key="g1",
        policy=GiftPolicy(3000, 7, 5, SPEND),
        now=T0,
    )
    wallet.release_due_holds(conn, T0 + timedelta(days=8))
    earned = ledger.balance(conn, A.user_account(host, A.EARNINGS))
    settle.refund_to(conn, store.get(conn, o), 1000, "clawback:test:1", "test", T0 + timedelta(days=9))
    assert ledger.balance(conn, A.user_account(host, A.EARNINGS)) == earned
    assert ledger.verify_balances(conn) == []


def test_og_bought_with_refunded_coins_is_revoked(db):
    conn, ctx, user, order = db
    u = user()
    o = order(u, "npr-100")  # 5000 coins
    settle.apply(conn, o, done(10000), T0, ctx)
    og_subscribe.subscribe(conn, user_id=u, tier=TIERS[1], key="k1", sub_id="SUB1", now=T0, spend=SPEND)
    assert conn.execute("SELECT og_level FROM users WHERE id = ?", (u,)).fetchone()[0] == 1
    r = settle.refund_to(conn, store.get(conn, o), 10000, "clawback:esewa:x:full", "refund", T0 + timedelta(hours=1))
    assert [e.name for e in r.events] == ["og:changed"]
    assert conn.execute("SELECT og_level FROM users WHERE id = ?", (u,)).fetchone()[0] == 0
    # 2000 coins were still held; the 3000 spent on the tier come back from og_sales: net debt 0.
    assert paid(conn, u) == 0
    assert ledger.verify_balances(conn) == []


def test_direct_og_order_subscribes_in_the_same_transaction(db):
    conn, ctx, user, order = db
    u = user()
    o = order(u, "og2-npr", gateway="khalti")
    r = settle.apply(conn, o, done(PACKS["og2-npr"].amount_minor), T0, ctx)
    assert r.verdict == "credited" and [e.name for e in r.events] == ["og:changed"]
    row = store.get(conn, o)
    assert row["subscription_id"] and paid(conn, u) == 0
    assert conn.execute("SELECT og_level FROM users WHERE id = ?", (u,)).fetchone()[0] == 2


def test_partial_refund_without_amount_goes_to_review(db):
    from halobuzz.payments.gateways.base import PARTIALLY_REFUNDED

    conn, ctx, user, order = db
    u = user()
    o = order(u)
    settle.apply(conn, o, done(1000), T0, ctx)
    r = settle.apply(conn, o, Status(PARTIALLY_REFUNDED, "PARTIAL_REFUND"), T0, ctx)
    row = store.get(conn, o)
    assert r.verdict == "partially_refunded" and row["needs_review"] == 1 and paid(conn, u) == 500
    settle.refund_to(conn, row, 400, f"clawback:manual:{o}:400", "ops", T0)
    assert paid(conn, u) == 300


def test_refund_reported_before_credit_is_applied_at_credit(db):
    conn, ctx, user, order = db
    u = user()
    o = order(u, "usd-1", gateway="stripe")
    out = settle.refund_to(conn, store.get(conn, o), 100, "clawback:stripe:ch:100", "early", T0)
    assert out.verdict == "pending_refund" and paid(conn, u) == 0
    r = settle.apply(conn, o, done(100, "USD"), T0, ctx)
    assert r.verdict == "credited" and paid(conn, u) == 0 and store.get(conn, o)["status"] == "refunded"


def test_event_log_is_encrypted(db, tmp_path):
    from halobuzz.infra.crypto import FieldCipher

    conn, *_ = db
    cipher = FieldCipher({"k": b"k" * 32}, "k")
    store.log_event(
        conn,
        cipher,
        uid="E1",
        gateway="esewa",
        source="return",
        raw={"query": {"data": "SECRET"}},
        verdict="rejected",
        reason="bad_signature",
        now=T0,
    )
    row = conn.execute("SELECT * FROM payment_events").fetchone()
    assert "SECRET" not in row["payload"] and row["payload"].startswith("v1:k:")
    assert store.event_json(row, cipher)["payload"] == {"query": {"data": "SECRET"}}


def test_dispute_won_restores_host_earnings_and_lost_closes_the_order(db):
    """Issue 15 item 11: a clawback lowers the host's totalEarned; a won dispute gives the host
    back the reversed held earnings (and totalEarned); a lost one closes the order."""
    conn, ctx, user, order = db
    buyer, host = user(), user()
    conn.execute(
        "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES ('S1',?,?,?,?,?)",
        (host, "t", "NP", "live", iso(T0)),
    )
    o = order(buyer, "npr-100")  # 5000 coins
    settle.apply(conn, o, done(10000), T0, ctx)
    gift = conn.execute("SELECT id, price FROM gifts WHERE og_min_level = 0 ORDER BY price DESC LIMIT 1").fetchone()
    send_gift(
        conn,
        sender_id=buyer,
        stream_id="S1",
        gift_id=gift["id"],
        quantity=4000 // gift["price"],
        key="g1",
        policy=GiftPolicy(3000, 7, 5, SPEND),
        now=T0 + timedelta(minutes=1),
    )
    held = ledger.balance(conn, A.user_account(host, A.HELD))
    earned = lambda: wallet.view(conn, host)["totalEarned"]  # noqa: E731
    before_buyer = paid(conn, buyer)
    assert earned() == held > 0

    out = settle.dispute(conn, store.get(conn, o), "dp_1", 10000, "open", T0 + timedelta(days=1))
    assert out.verdict == "refunded" and store.get(conn, o)["status"] == "disputed"
    assert ledger.balance(conn, A.user_account(host, A.HELD)) == 0 and earned() == 0

    out = settle.dispute(conn, store.get(conn, o), "dp_1", 10000, "won", T0 + timedelta(days=2))
    assert out.verdict == "recredited" and store.get(conn, o)["status"] == "completed"
    assert ledger.balance(conn, A.user_account(host, A.HELD)) == held and earned() == held
    assert conn.execute("SELECT remaining FROM earnings_holds").fetchone()[0] == held
    assert paid(conn, buyer) == before_buyer  # the buyer is back where they were
    again = settle.dispute(conn, store.get(conn, o), "dp_1", 10000, "won", T0 + timedelta(days=3))
    assert again.verdict == "duplicate" and earned() == held
    assert ledger.verify_balances(conn) == [] and ledger.verify_chain(conn) == []

    o2 = order(buyer, "npr-10")
    settle.apply(conn, o2, done(1000), T0, ctx)
    settle.dispute(conn, store.get(conn, o2), "dp_2", 1000, "open", T0 + timedelta(days=1))
    lost = settle.dispute(conn, store.get(conn, o2), "dp_2", 1000, "lost", T0 + timedelta(days=2))
    assert lost.verdict == "refunded" and store.get(conn, o2)["status"] == "refunded"
    assert ledger.verify_balances(conn) == [] and ledger.verify_chain(conn) == []
