import pytest

from halobuzz.errors import Conflict, Forbidden, Invalid, NotFound
from halobuzz.events import GIFT_SENT, THRONE_CLAIMED
from halobuzz.gifts.send import leaderboard, send_gift
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger, wallet

from .conftest import POLICY


def gift(world, sender, stream, gift_id="rose", qty=1, key=None):
    world.n += 1
    return send_gift(
        world.conn,
        sender_id=sender,
        stream_id=stream,
        gift_id=gift_id,
        quantity=qty,
        key=key or f"k{world.n}",
        policy=POLICY,
        now=world.clock.now(),
    )


def test_gift_moves_coins_through_the_ledger(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 1000)
    out = gift(world, viewer, s, "rhino", 2)  # 2 x 99 = 198
    assert out.response["coins"] == 198
    assert world.view(viewer)["balance"] == 802 and world.view(viewer)["totalSpent"] == 198
    host_view = world.view(host)
    fee = 198 * 3000 // 10000
    assert host_view["earningsHeld"] == 198 - fee and host_view["earningsAvailable"] == 0
    assert host_view["totalEarned"] == 198 - fee
    assert ledger.balance(world.conn, A.PLATFORM_FEE) == fee
    assert world.conn.execute("SELECT total_coins FROM streams WHERE id = ?", (s,)).fetchone()[0] == 198
    names = [e.name for e in out.events]
    assert names == [GIFT_SENT, THRONE_CLAIMED]
    assert out.events[0].room == s and out.events[0].data["combo"] == 2
    assert ledger.verify_balances(world.conn) == [] and ledger.verify_chain(world.conn) == []


def test_bonus_spent_first_and_never_earned(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 100, "paid")
    world.grant(viewer, 60, "bonus")
    out = gift(world, viewer, s, "rhino")  # 99 coins: 60 bonus + 39 paid
    assert (out.response["bonusCoins"], out.response["paidCoins"]) == (60, 39)
    v = world.view(viewer)
    assert v["bonusBalance"] == 0 and v["balance"] == 61
    assert world.view(host)["earningsHeld"] == 39 - 39 * 3000 // 10000
    assert ledger.balance(world.conn, A.BONUS_BURN) == 60


@pytest.mark.parametrize("qty", [0, -1, 10_000, 10**12])
def test_bad_quantities(world, qty):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 1000)
    with pytest.raises(Invalid) as e:
        gift(world, viewer, s, qty=qty)
    assert "quantity" in e.value.fields


def test_refusals_change_nothing(world):
    host, viewer = world.user(), world.user()
    live, ended = world.stream(host), world.stream(host, "ended")
    world.grant(viewer, 50)
    before = world.conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
    with pytest.raises(NotFound):
        gift(world, viewer, live, "no-such-gift")
    with pytest.raises(NotFound):
        gift(world, viewer, "nope")
    with pytest.raises(Conflict) as e:
        gift(world, viewer, ended)
    assert e.value.code == "stream_not_live"
    with pytest.raises(Forbidden):
        gift(world, host, live)
    with pytest.raises(Conflict) as e:
        gift(world, viewer, live, "rhino")
    assert e.value.code == "insufficient_coins" and e.value.extra["balance"] == 50
    with pytest.raises(Forbidden) as e:
        world.grant(viewer, 5000)
        gift(world, viewer, live, "crown")
    assert e.value.code == "og_required"
    assert world.conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == before + 2  # only the grant


def test_combo_and_throne(world):
    host, a, b = world.user(), world.user("alice"), world.user("bob")
    s = world.stream(host)
    world.grant(a, 1000)
    world.grant(b, 1000)
    assert gift(world, a, s, "rose").response["combo"] == 1
    world.clock.advance(seconds=2)
    assert gift(world, a, s, "rose").response["combo"] == 2
    world.clock.advance(seconds=10)
    assert gift(world, a, s, "rose").response["combo"] == 1, "the combo window passed"
    out = gift(world, b, s, "heart")  # 5 > 3: bob takes the throne
    assert [e.name for e in out.events][-1] == THRONE_CLAIMED
    assert out.events[-1].data["previousUserId"] == a
    tie = gift(world, a, s, "rose", 2)  # alice 5 = bob 5: holder keeps it
    assert [e.name for e in tie.events] == [GIFT_SENT]
    holder = world.conn.execute("SELECT user_id, coins FROM stream_throne WHERE stream_id = ?", (s,)).fetchone()
    assert tuple(holder) == (b, 5), "a tie keeps the throne with its holder"
    board = leaderboard(world.conn, s)
    assert [(r["username"], r["coins"]) for r in board] == [("bob", 5), ("alice", 5)]


def test_daily_spend_cap_for_minors_and_own_limit(world):
    host = world.user()
    minor = world.user(birth="2012-01-01")
    adult = world.user()
    s = world.stream(host)
    world.grant(minor, 10_000)
    world.grant(adult, 10_000)
    gift(world, minor, s, "himalaya")  # 999
    gift(world, minor, s, "himalaya")  # 1998
    with pytest.raises(Conflict) as e:
        gift(world, minor, s, "rose", 3)  # 2001 > 2000
    assert e.value.code == "spend_limit" and e.value.extra["spentToday"] == 1998
    wallet.set_daily_limit(world.conn, adult, 100)
    gift(world, adult, s, "rhino")
    with pytest.raises(Conflict):
        gift(world, adult, s, "rose", 2)
    world.clock.advance(days=1)
    gift(world, adult, s, "rhino")  # a new day
    gift(world, minor, s, "himalaya")
    # a minor can lower, never raise, the cap
    wallet.set_daily_limit(world.conn, minor, 50_000)
    u = world.conn.execute("SELECT * FROM users WHERE id = ?", (minor,)).fetchone()
    assert wallet.daily_limit(u, world.clock.now().date(), wallet.SpendPolicy(0, 2000)) == 2000


def test_negative_balance_after_clawback_stops_spending(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 10, "bonus")
    world.grant(viewer, -5, "paid")  # e.g. a refund clawed back coins already spent
    with pytest.raises(Conflict) as e:
        gift(world, viewer, s, "rose")
    assert e.value.code == "negative_balance"


def test_holds_release_and_payouts(world):
    host, viewer = world.user(role="host"), world.user()
    s = world.stream(host)
    world.grant(viewer, 10_000)
    gift(world, viewer, s, "himalaya")
    held = world.view(host)["earningsHeld"]
    assert wallet.release_due_holds(world.conn, world.clock.now()) == 0
    world.clock.advance(days=7, seconds=1)
    assert wallet.release_due_holds(world.conn, world.clock.now()) == 1
    assert wallet.release_due_holds(world.conn, world.clock.now()) == 0, "idempotent"
    v = world.view(host)
    assert v["earningsHeld"] == 0 and v["earningsAvailable"] == held
    with pytest.raises(Conflict):
        wallet.request_payout(world.conn, "P1", host, held + 1, world.clock.now())
    wallet.request_payout(world.conn, "P1", host, 300, world.clock.now())
    wallet.request_payout(world.conn, "P2", host, 100, world.clock.now())
    wallet.decide_payout(world.conn, "P1", True, "admin@x", world.clock.now())
    wallet.decide_payout(world.conn, "P2", False, "admin@x", world.clock.now())
    with pytest.raises(Conflict):
        wallet.decide_payout(world.conn, "P1", False, "admin@x", world.clock.now())
    assert world.view(host)["earningsAvailable"] == held - 300
    assert ledger.balance(world.conn, A.PAYOUTS_PAID) == 300
    assert ledger.verify_balances(world.conn) == []


def test_ledger_verify_detects_tampering(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 1000)
    for _ in range(3):
        gift(world, viewer, s)
    assert ledger.verify_chain(world.conn) == []
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.conn.execute("UPDATE ledger_entries SET amount = amount - 1 WHERE id = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.conn.execute("DELETE FROM ledger_tx WHERE id = 1")
    # someone with the file drops the guards: the hash chain still tells
    for trigger in ("ledger_entries_append_only_update", "ledger_entries_append_only_delete"):
        world.conn.execute(f"DROP TRIGGER {trigger}")
    world.conn.execute("UPDATE ledger_entries SET amount = amount - 1 WHERE id = 3")
    assert any("edited" in p for p in ledger.verify_chain(world.conn))
    assert any("balance" in p or "sum" in p for p in ledger.verify_balances(world.conn))
    world.conn.execute("UPDATE ledger_entries SET amount = amount + 1 WHERE id = 3")
    world.conn.execute("DELETE FROM ledger_entries WHERE id = 5")
    assert ledger.verify_chain(world.conn)


def test_chain_covers_kind_and_memo(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 100)
    gift(world, viewer, s)
    world.conn.execute("DROP TRIGGER ledger_tx_append_only_update")
    world.conn.execute("UPDATE ledger_tx SET memo = '{\"reason\":\"prize\"}' WHERE kind = 'grant'")
    assert any("edited" in p for p in ledger.verify_chain(world.conn))


def test_ledger_rejects_unbalanced_and_duplicate(world):
    u = world.user()
    with pytest.raises(ValueError):
        ledger.post(world.conn, "x1", "grant", [(A.user_account(u, A.PAID), 5), (A.ADMIN_ADJUST, -4)], "t")
    ledger.post(world.conn, "x2", "grant", [(A.user_account(u, A.PAID), 5), (A.ADMIN_ADJUST, -5)], "t")
    with pytest.raises(ledger.DuplicateTransaction):
        ledger.post(world.conn, "x2", "grant", [(A.user_account(u, A.PAID), 5), (A.ADMIN_ADJUST, -5)], "t")


def test_platform_fee_is_exact_over_many_small_gifts(world):
    host, viewer = world.user(), world.user()
    s = world.stream(host)
    world.grant(viewer, 1000)
    for _ in range(100):
        gift(world, viewer, s, "rose")  # 1 coin each
    assert ledger.balance(world.conn, A.PLATFORM_FEE) == 30, "30 % of 100 coins, not 0 (floor per gift)"
    assert world.view(host)["earningsHeld"] == 70
    from halobuzz.gifts.send import platform_fee

    assert platform_fee(5, 3000, 0) == (1, 5000) and platform_fee(5, 3000, 5000) == (2, 0)


def test_festival_window_needs_an_offset(world):
    from halobuzz.accounts.audit import Actor
    from halobuzz.gifts import catalog

    actor = Actor("admin@x", "api")
    spec = catalog.GiftSpec("diya", "Diya", 20, "gifts/rose.svg", active_from="2026-10-20T00:00:00")
    with pytest.raises(Invalid) as e:
        catalog.create(world.conn, spec, actor, world.clock.now())
    assert "activeFrom" in e.value.fields
    ok = catalog.GiftSpec(
        "diya",
        "Diya",
        20,
        "gifts/rose.svg",
        active_from="2026-10-20T00:00:00Z",
        active_until="2026-10-25T00:00:00+05:45",
    )
    catalog.create(world.conn, ok, actor, world.clock.now())
    assert not catalog.available_now(catalog.get(world.conn, "diya"), world.clock.now())  # T0 is March


def test_admin_locked_limit_can_only_be_lowered_by_the_user(world):
    from halobuzz.errors import Forbidden as F

    u = world.user()
    wallet.set_daily_limit(world.conn, u, 500, by_admin=True, lock=True)
    for attempt in (None, 0, 600):
        with pytest.raises(F):
            wallet.set_daily_limit(world.conn, u, attempt)
    wallet.set_daily_limit(world.conn, u, 300)  # lowering is always allowed
    row = world.conn.execute("SELECT daily_spend_limit, spend_limit_locked FROM users WHERE id = ?", (u,)).fetchone()
    assert tuple(row) == (300, 1)
    wallet.set_daily_limit(world.conn, u, None, by_admin=True, lock=False)
    wallet.set_daily_limit(world.conn, u, 10_000)


def test_idempotency_answers_are_pruned_by_age(world):
    from halobuzz.wallet import idempotency

    for i in range(3):
        world.conn.execute(
            "INSERT INTO idempotency VALUES (?,?,?,?,?,?)",
            ("u", f"k{i}", "h", 201, "{}", f"2026-01-0{i + 1}T00:00:00.000Z"),
        )
    assert idempotency.prune(world.conn, "2026-01-03T00:00:00.000Z", limit=1) == 1
    assert idempotency.prune(world.conn, "2026-01-03T00:00:00.000Z") == 1
    assert [r[0] for r in world.conn.execute("SELECT key FROM idempotency")] == ["k2"]
