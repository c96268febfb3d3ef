"""The cross-shard gift write units on two real SQLite files (no NATS): every repeat and race."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy
from halobuzz.infra.clock import FrozenClock
from halobuzz.resources import assets_dir
from halobuzz.shards import messages as M
from halobuzz.shards import transfers as T
from halobuzz.wallet import ledger, wallet
from tests.support.world import T0, World

SPEND = wallet.SpendPolicy(0, 2000)
POLICY = GiftPolicy(3000, 7, 5, SPEND)
KEYS = {"np": Ed25519PrivateKey.generate(), "in": Ed25519PrivateKey.generate()}
PEERS = {k: v.public_key() for k, v in KEYS.items()}


def _world(path):
    conn = connect(path, synchronous="OFF")
    migrate(conn)
    clock = FrozenClock(T0)
    catalog.seed(conn, catalog.load_seed(assets_dir()), clock.now())
    return World(conn, clock)


@pytest.fixture()
def pair(tmp_path):
    a, b = _world(tmp_path / "np.db"), _world(tmp_path / "in.db")
    viewer = a.user("viewer")
    wallet.adjust(a.conn, "g1", viewer, 1000, "paid", "t", a.clock.now())
    wallet.adjust(a.conn, "g2", viewer, 5, "bonus", "t", a.clock.now())
    host = b.user("host")
    stream = b.stream(host)
    yield a, b, viewer, host, stream
    a.conn.close()
    b.conn.close()


def _send(a, viewer, stream, key="k1", tid="np-1", quantity=20, gift="rose"):
    return T.send(
        a.conn,
        signer=M.Signer("np", KEYS["np"]),
        dest="in",
        dest_subject="halobuzz.in.gifts",
        transfer_id=tid,
        sender_id=viewer,
        stream_id=stream,
        gift_id=gift,
        quantity=quantity,
        key=key,
        spend=SPEND,
        now=a.clock.now(),
        deadline=a.clock.now() + timedelta(seconds=60),
    )


def _deliver(conn, subject_like, verifier):
    """Everything the outbox holds for a subject, verified as the receiver would."""
    rows = conn.execute("SELECT payload FROM shard_outbox WHERE subject = ? ORDER BY id", (subject_like,)).fetchall()
    return [verifier.verify(r["payload"]) for r in rows]


def _receive(b, msg):
    return T.receive(
        b.conn,
        msg,
        signer=M.Signer("in", KEYS["in"]),
        reply_subject="halobuzz.np.receipts",
        policy=POLICY,
        now=b.clock.now(),
    )


def _clean(w):
    assert ledger.verify_balances(w.conn) == [] and ledger.verify_chain(w.conn) == []


def test_gift_debits_into_transit_credits_once_and_settles(pair):
    a, b, viewer, host, stream = pair
    out = _send(a, viewer, stream)
    price = out.response["coins"]
    assert out.response["bonusCoins"] == 5 and out.response["paidCoins"] == price - 5
    assert ledger.balance(a.conn, "sys:transit:in") == price
    [gift] = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    first = _receive(b, gift)
    assert first.response["status"] == "credited" and first.events[0].data["senderShard"] == "np"
    again = _receive(b, gift)  # redelivered
    assert again.response["repeat"] is True
    assert ledger.balance(b.conn, f"{host}:held") == first.response["hostEarned"]
    assert ledger.balance(b.conn, "sys:shard_import:np") == -(price - 5)
    receipts = _deliver(b.conn, "halobuzz.np.receipts", M.Verifier("np", PEERS))
    assert [r["status"] for r in receipts] == ["credited", "credited"]
    for r in receipts:
        T.settle(a.conn, r, a.clock.now())
    assert ledger.balance(a.conn, "sys:transit:in") == 0
    assert ledger.balance(a.conn, "sys:shard_export:in") == price - 5
    assert T.reconcile(a.conn)["ok"] and T.reconcile(a.conn)["inFlight"] == []
    assert T.reconcile(b.conn)["peers"]["np"]["imported"] == price - 5
    _clean(a), _clean(b)


def test_refusal_refunds_paid_and_bonus(pair):
    a, b, viewer, host, stream = pair
    b.conn.execute("UPDATE streams SET status = 'ended' WHERE id = ?", (stream,))
    _send(a, viewer, stream)
    [gift] = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    assert _receive(b, gift).response["reason"] == "the stream is ended, not live"
    [receipt] = _deliver(b.conn, "halobuzz.np.receipts", M.Verifier("np", PEERS))
    T.settle(a.conn, receipt, a.clock.now())
    T.settle(a.conn, receipt, a.clock.now())
    assert ledger.balances_of(a.conn, viewer) == (1000, 5)
    assert ledger.balance(a.conn, "sys:transit:in") == 0
    assert ledger.balance(b.conn, f"{host}:held") == 0
    _clean(a), _clean(b)


def test_cancel_before_the_gift_wins_and_the_late_gift_is_refused(pair):
    a, b, viewer, host, stream = pair
    _send(a, viewer, stream)
    a.clock.advance(seconds=61)
    assert T.expire(
        a.conn, signer=M.Signer("np", KEYS["np"]), subjects={"in": "halobuzz.in.gifts"}, now=a.clock.now()
    ).response == {"cancelling": 1}
    gift, cancel = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    assert cancel["typ"] == "cancel"
    assert _receive(b, cancel).response["status"] == "refused"
    assert _receive(b, gift).response == {"id": "np-1", "status": "refused", "repeat": True}
    for r in _deliver(b.conn, "halobuzz.np.receipts", M.Verifier("np", PEERS)):
        T.settle(a.conn, r, a.clock.now())
    assert ledger.balances_of(a.conn, viewer) == (1000, 5)
    assert ledger.balance(b.conn, f"{host}:held") == 0
    assert T.reconcile(a.conn)["inFlight"] == []


def test_cancel_after_credit_is_answered_credited_never_refunded(pair):
    a, b, viewer, host, stream = pair
    out = _send(a, viewer, stream)
    [gift] = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    _receive(b, gift)  # credited, but the receipt is slow
    a.clock.advance(seconds=61)
    T.expire(a.conn, signer=M.Signer("np", KEYS["np"]), subjects={"in": "halobuzz.in.gifts"}, now=a.clock.now())
    assert T.reconcile(a.conn)["inFlight"][0]["status"] == "cancelling"
    _, cancel = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    assert _receive(b, cancel).response["status"] == "credited"
    for r in _deliver(b.conn, "halobuzz.np.receipts", M.Verifier("np", PEERS)):
        T.settle(a.conn, r, a.clock.now())
    assert ledger.balances_of(a.conn, viewer) == (1000 - out.response["paidCoins"], 0)
    assert T.reconcile(a.conn)["ok"]


def test_gift_arriving_after_its_deadline_is_refused(pair):
    a, b, viewer, host, stream = pair
    _send(a, viewer, stream)
    [gift] = _deliver(a.conn, "halobuzz.in.gifts", M.Verifier("in", PEERS))
    b.clock.advance(seconds=120)
    assert _receive(b, gift).response["reason"] == "arrived after its deadline"


def test_forged_and_misaddressed_messages_are_refused(pair):
    a, b, viewer, host, stream = pair
    _send(a, viewer, stream)
    stranger = Ed25519PrivateKey.generate()
    forged = M.Signer("np", stranger).sign(M.GIFT, "in", {"id": "np-x"})
    with pytest.raises(M.BadMessage, match="does not verify"):
        M.Verifier("in", PEERS).verify(forged)
    with pytest.raises(M.BadMessage, match="unknown shard"):
        M.Verifier("in", PEERS).verify(M.Signer("us", stranger).sign(M.GIFT, "in", {"id": "x"}))
    with pytest.raises(M.BadMessage, match="reached"):
        M.Verifier("np", PEERS).verify(M.Signer("in", KEYS["in"]).sign(M.GIFT, "in", {"id": "x"}))
    with pytest.raises(M.BadMessage):
        M.Verifier("in", PEERS).verify(b"not a jws")


def test_not_enough_coins_changes_nothing(pair):
    a, b, viewer, host, stream = pair
    from halobuzz.errors import Conflict

    with pytest.raises(Conflict):
        _send(a, viewer, stream, quantity=9999)
    assert a.conn.execute("SELECT COUNT(*) FROM shard_outbox").fetchone()[0] == 0
