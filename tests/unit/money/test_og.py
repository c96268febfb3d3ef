from datetime import date, datetime, timedelta, timezone

import pytest

from halobuzz.errors import Conflict
from halobuzz.events import OG_CHANGED
from halobuzz.og import bonus, subscribe, tiers
from halobuzz.wallet import ledger, wallet
from tests.support.template import migrated_db

TIERS = tiers.load()
SPEND = wallet.SpendPolicy(0, 2000)


def buy(world, user, tier, key=None):
    world.n += 1
    return subscribe.subscribe(
        world.conn,
        user_id=user,
        tier=TIERS[tier],
        key=key or f"og{world.n}",
        sub_id=f"sub{world.n}",
        now=world.clock.now(),
        spend=SPEND,
    )


def level(world, user):
    r = world.conn.execute("SELECT og_level, og_expires_at FROM users WHERE id = ?", (user,)).fetchone()
    return r[0], r[1]


def test_daily_bonus_formula_from_seed():
    assert [t.daily_bonus for t in TIERS.values()] == [60, 180, 600, 1800, 6000]
    custom = tiers.load({"1": "1000:7"})
    assert custom[1].daily_bonus == 1000 * 6 // 70  # floor(1000 * 0.6 / 7) = 85
    with pytest.raises(ValueError):
        tiers.load({"2": "10:30"})  # cheaper than tier 1


def test_new_renewal_upgrade_downgrade(world):
    u = world.user()
    world.grant(u, 200_000)
    out = buy(world, u, 1)
    assert out.response["kind"] == "new" and level(world, u)[0] == 1
    assert [e.name for e in out.events] == [OG_CHANGED]
    first_expiry = out.response["expiresAt"]
    renew = buy(world, u, 1)
    assert renew.response["kind"] == "renewal" and renew.response["startsAt"] == first_expiry
    assert level(world, u)[1] == renew.response["expiresAt"], "ogExpiresAt covers the queued period"
    world.clock.advance(days=10)
    before = world.view(u)["balance"]
    up = buy(world, u, 2)
    # 20 of 30 days unused on the current period -> 2000, plus the queued renewal it ends in full -> 3000
    assert up.response["kind"] == "upgrade" and up.response["credit"] == 2000 + 3000
    assert before - world.view(u)["balance"] == 9000 - 5000
    assert level(world, u)[0] == 2
    with pytest.raises(Conflict) as e:
        buy(world, u, 1)
    assert e.value.code == "og_downgrade"


def test_og_cannot_be_bought_with_bonus_coins(world):
    u = world.user()
    world.grant(u, 10_000, "bonus")
    with pytest.raises(Conflict) as e:
        buy(world, u, 1)
    assert e.value.code == "insufficient_coins"


def test_bonus_paid_once_per_day_with_catch_up_and_never_after_expiry(world):
    u = world.user()
    world.grant(u, 3000)
    buy(world, u, 1)  # 30 days, 60/day
    assert len(bonus.pay_daily_bonuses(world.conn, world.clock.now())) == 1
    assert bonus.pay_daily_bonuses(world.conn, world.clock.now()) == [], "a repeated run pays nothing"
    world.clock.advance(days=3)  # the server was down for three days
    assert len(bonus.pay_daily_bonuses(world.conn, world.clock.now())) == 3
    world.clock.advance(days=60)
    paid_total = world.view(u)["bonusBalance"]
    bonus.pay_daily_bonuses(world.conn, world.clock.now())
    assert world.view(u)["bonusBalance"] == 30 * 60, "exactly `duration` days, never past expiry"
    assert paid_total < 30 * 60
    events = bonus.expire_tiers(world.conn, world.clock.now())
    assert [e.data["ogLevel"] for e in events] == [0] and level(world, u) == (0, None)
    assert bonus.expire_tiers(world.conn, world.clock.now()) == []
    assert ledger.verify_balances(world.conn) == []


def test_upgrade_day_pays_one_bonus_and_revocation_stops_bonus(world):
    u = world.user()
    world.grant(u, 100_000)
    buy(world, u, 1)
    up = buy(world, u, 3)
    paid = bonus.pay_daily_bonuses(world.conn, world.clock.now())
    assert paid == [(u, world.clock.now().date().isoformat(), TIERS[3].daily_bonus)]
    events = subscribe.revoke(world.conn, up.response["subscriptionId"], world.clock.now(), "refund")
    assert events[0].data["ogLevel"] == 0
    world.clock.advance(days=5)
    assert bonus.pay_daily_bonuses(world.conn, world.clock.now()) == []


# -- reviewer findings (docs: README "Coins, gifts and OG tiers") -------------------------


def spent_on_og(world, user):
    """Paid coins that went to OG (purchases minus credit returned)."""
    return -world.conn.execute(
        "SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id "
        "WHERE e.account_id = ? AND t.kind IN ('og_purchase', 'og_credit')",
        (f"{user}:paid",),
    ).fetchone()[0]


def sub_row(world, sub_id):
    return world.conn.execute("SELECT * FROM og_subscriptions WHERE id = ?", (sub_id,)).fetchone()


def test_upgrade_credits_queued_renewals_in_full(world):
    """1.2: the queued periods an upgrade ends were paid for; their full value is credited."""
    u = world.user()
    world.grant(u, 100_000)
    for _ in range(3):
        buy(world, u, 1)  # 3 x 3000: 90 days of tier 1
    world.clock.advance(days=1)
    up = buy(world, u, 2)
    # 29 of 30 days unused on the active period (2900) + two queued periods (2 x 3000)
    assert up.response["credit"] == 2900 + 6000 and up.response["pricePaid"] == 100
    assert spent_on_og(world, u) == 9000 + 100
    ended = world.conn.execute(
        "SELECT COUNT(*) FROM og_subscriptions WHERE user_id = ? AND end_reason = 'upgraded'", (u,)
    ).fetchone()[0]
    assert ended == 3
    assert ledger.verify_balances(world.conn) == []


def test_upgrade_credit_above_the_new_price_goes_back_to_paid_coins(world):
    u = world.user()
    world.grant(u, 100_000)
    for _ in range(4):
        buy(world, u, 1)  # 12000 of tier 1, 120 days
    before = world.view(u)["balance"]
    up = buy(world, u, 2)  # at once: credit 12000 against 9000
    assert up.response["credit"] == 12_000 and up.response["pricePaid"] == 0
    assert up.response["creditReturned"] == 3000
    assert world.view(u)["balance"] - before == 3000
    assert spent_on_og(world, u) == 9000, "the user paid exactly tier 2's price"
    assert level(world, u)[0] == 2
    assert ledger.verify_balances(world.conn) == []


def test_chained_upgrades_cost_no_more_than_buying_the_top_tier(world):
    """1.3: credit is computed from the period's list value, not from what was charged after a credit."""
    u = world.user()
    world.grant(u, 400_000)
    buy(world, u, 1)
    r2 = buy(world, u, 2)
    r3 = buy(world, u, 3)
    assert r2.response["pricePaid"] == 6000 and r3.response["credit"] == 9000
    assert spent_on_og(world, u) == TIERS[3].price_coins
    row = sub_row(world, r2.response["subscriptionId"])
    assert (row["price"], row["value"]) == (6000, 9000), "price = charged, value = list price"

    # with time passing: never more than tier 3 plus the value used up meanwhile
    v = world.user()
    world.grant(v, 400_000)
    buy(world, v, 1)
    world.clock.advance(days=3)
    buy(world, v, 2)
    world.clock.advance(days=3)
    buy(world, v, 3)
    used = 3000 * 3 // 30 + 9000 * 3 // 30
    assert spent_on_og(world, v) <= TIERS[3].price_coins + used + 2  # + floor rounding of two credits


def test_value_null_falls_back_to_price(world):
    u = world.user()
    world.grant(u, 100_000)
    r1 = buy(world, u, 1)
    world.conn.execute("UPDATE og_subscriptions SET value = NULL WHERE id = ?", (r1.response["subscriptionId"],))
    assert buy(world, u, 2).response["credit"] == 3000


def test_owed_dates_of_a_period_ended_before_it_started_is_empty():
    starts = datetime(2026, 3, 31, 12, tzinfo=timezone.utc)
    assert bonus.owed_dates(starts, 30, starts, date(2026, 5, 1)) == []
    assert bonus.owed_dates(starts, 30, starts - timedelta(days=2), date(2026, 5, 1)) == []
    # in force for one second of its first date, then ended: that date only
    assert bonus.owed_dates(starts, 30, starts + timedelta(seconds=1), date(2026, 5, 1)) == [date(2026, 3, 31)]
    # ended exactly at a midnight: the date that starts then is not owed
    assert bonus.owed_dates(starts, 30, datetime(2026, 4, 2, tzinfo=timezone.utc), date(2026, 5, 1)) == [
        date(2026, 3, 31),
        date(2026, 4, 1),
    ]


def test_no_bonus_for_queued_periods_ended_before_they_started(world):
    """1.4: a queued period ended by an upgrade, or revoked before it started, pays nothing."""
    u = world.user()
    world.grant(u, 100_000)
    buy(world, u, 1)
    buy(world, u, 1)
    p3 = buy(world, u, 1).response
    world.clock.advance(days=1)
    up = buy(world, u, 2).response
    world.clock.advance(days=70)
    paid = bonus.pay_daily_bonuses(world.conn, world.clock.now())
    assert [p for p in paid if p[1] >= up["expiresAt"][:10]] == []
    assert not [p for p in paid if p[1] == p3["startsAt"][:10]]

    v = world.user()
    world.grant(v, 100_000)
    buy(world, v, 1)
    q = buy(world, v, 1).response
    subscribe.revoke(world.conn, q["subscriptionId"], world.clock.now(), "payment_refunded")
    world.clock.advance(days=45)
    paid = bonus.pay_daily_bonuses(world.conn, world.clock.now())
    assert [p for p in paid if p[0] == v and p[1] >= q["startsAt"][:10]] == []
    assert len([p for p in paid if p[0] == v]) == 30


def test_queued_period_starts_after_the_one_before_it_was_revoked(world):
    """1.5: the expiry job also raises users at og_level 0 whose queued period is now in force."""
    u = world.user()
    world.grant(u, 100_000)
    p1 = buy(world, u, 1).response
    p2 = buy(world, u, 1).response
    subscribe.revoke(world.conn, p1["subscriptionId"], world.clock.now(), "payment_refunded")
    assert level(world, u) == (0, None)
    assert bonus.expire_tiers(world.conn, world.clock.now()) == []
    world.clock.set(datetime.fromisoformat(p2["startsAt"].replace("Z", "+00:00")) + timedelta(minutes=5))
    events = bonus.expire_tiers(world.conn, world.clock.now())
    assert [(e.name, e.data["userId"], e.data["ogLevel"]) for e in events] == [(OG_CHANGED, u, 1)]
    assert level(world, u) == (1, p2["expiresAt"])
    assert bonus.expire_tiers(world.conn, world.clock.now()) == []


def test_level_follows_a_gap_left_by_a_revoked_middle_period(world):
    u = world.user()
    world.grant(u, 100_000)
    p1 = buy(world, u, 1).response
    p2 = buy(world, u, 1).response
    p3 = buy(world, u, 1).response
    subscribe.revoke(world.conn, p2["subscriptionId"], world.clock.now(), "payment_refunded")
    assert level(world, u) == (1, p1["expiresAt"]), "OG runs out where the periods stop being contiguous"
    world.clock.set(datetime.fromisoformat(p1["expiresAt"].replace("Z", "+00:00")))
    assert [e.data["ogLevel"] for e in bonus.expire_tiers(world.conn, world.clock.now())] == [0]
    world.clock.set(datetime.fromisoformat(p3["startsAt"].replace("Z", "+00:00")))
    assert [e.data["ogLevel"] for e in bonus.expire_tiers(world.conn, world.clock.now())] == [1]
    assert level(world, u) == (1, p3["expiresAt"])


def test_level_rises_when_a_queued_higher_tier_starts(world):
    u = world.user()
    world.grant(u, 400_000)
    p1 = buy(world, u, 3).response
    q = buy(world, u, 3).response  # queued renewal of tier 3
    subscribe.revoke(world.conn, p1["subscriptionId"], world.clock.now(), "payment_refunded")
    world.clock.advance(days=1)
    low = buy(world, u, 1).response  # no tier in force: tier 1 starts now, runs past q's start
    assert low["kind"] == "new" and level(world, u) == (1, q["startsAt"])
    world.clock.set(datetime.fromisoformat(q["startsAt"].replace("Z", "+00:00")))
    assert [e.data["ogLevel"] for e in bonus.expire_tiers(world.conn, world.clock.now())] == [3]
    world.clock.set(datetime.fromisoformat(q["expiresAt"].replace("Z", "+00:00")))
    bonus.expire_tiers(world.conn, world.clock.now())
    assert low["expiresAt"] < q["expiresAt"] and level(world, u) == (0, None)


def test_bonus_job_remembers_paid_through_and_works_in_bounded_batches(world):
    people = [world.user() for _ in range(5)]
    for p in people:
        world.grant(p, 10_000)
        buy(world, p, 1)
    first = bonus.pay_batch(world.conn, world.clock.now(), limit=2)
    assert first.periods == 2 and first.more and len(first.paid) == 2
    rest = bonus.pay_batch(world.conn, world.clock.now(), limit=2)
    last = bonus.pay_batch(world.conn, world.clock.now(), limit=2)
    assert (rest.periods, last.periods, last.more) == (2, 1, False)
    today = world.clock.now().date().isoformat()
    assert {r[0] for r in world.conn.execute("SELECT bonus_paid_through FROM og_subscriptions")} == {today}
    again = bonus.pay_batch(world.conn, world.clock.now(), limit=2)
    assert (again.periods, again.paid) == (0, []), "paid-up periods are not even looked at"
    world.clock.advance(days=2)
    catch_up = bonus.pay_batch(world.conn, world.clock.now(), limit=100)
    assert catch_up.periods == 5 and len(catch_up.paid) == 10
    world.clock.advance(days=60)
    bonus.pay_daily_bonuses(world.conn, world.clock.now())
    assert bonus.pay_batch(world.conn, world.clock.now(), limit=100).periods == 0, "finished periods drop out"
    assert all(world.view(p)["bonusBalance"] == 30 * 60 for p in people)


def test_bonus_once_per_user_per_day_across_batches_and_periods(world):
    """The ledger key still guards a date two periods owe (an upgrade day), whatever the batch size."""
    u = world.user()
    world.grant(u, 100_000)
    buy(world, u, 1)
    world.clock.advance(hours=1)
    buy(world, u, 3)
    world.clock.advance(days=2)
    paid = []
    while True:
        b = bonus.pay_batch(world.conn, world.clock.now(), limit=1)
        paid += b.paid
        if not b.more:
            break
    dates = [p[1] for p in paid]
    assert len(dates) == len(set(dates)) == 3
    assert paid[0][2] == TIERS[3].daily_bonus, "the upgrade day pays the higher tier"


def test_period_ending_at_midnight_on_a_leap_year(tmp_path):
    from halobuzz.infra.clock import FrozenClock

    from .conftest import World

    conn = migrated_db(tmp_path / "leap.db")
    w = World(conn, FrozenClock(datetime(2028, 2, 28, tzinfo=timezone.utc)))
    u = w.user()
    w.grant(u, 10_000)
    buy(w, u, 1)  # 2028-02-28T00:00 -> 2028-03-29T00:00
    w.clock.advance(days=40)
    paid = bonus.pay_daily_bonuses(conn, w.clock.now())
    assert [p[1] for p in paid][0] == "2028-02-28" and paid[-1][1] == "2028-03-28" and len(paid) == 30
    assert "2028-02-29" in [p[1] for p in paid]
    conn.close()


def test_expiry_job_works_in_bounded_batches(world):
    people = [world.user() for _ in range(5)]
    for p in people:
        world.grant(p, 10_000)
        buy(world, p, 1)
    world.clock.advance(days=31)
    first = bonus.expire_batch(world.conn, world.clock.now(), limit=2)
    assert len(first.events) == 2 and first.more
    second = bonus.expire_tiers(world.conn, world.clock.now(), limit=10)
    assert len(second) == 3
    assert bonus.expire_batch(world.conn, world.clock.now(), limit=2).more is False


def test_bonus_units_stop_after_max_posts_and_ids_no_longer_due_are_skipped(world):
    people = [world.user() for _ in range(3)]
    for p in people:
        world.grant(p, 10_000)
        buy(world, p, 1)
    world.clock.advance(days=9)  # 10 dates owed by each period
    sql, params = bonus.due_query(world.clock.now())
    due = [r[0] for r in world.conn.execute(sql, params)]
    assert len(due) == 3
    first = bonus.pay_batch(world.conn, world.clock.now(), ids=due, max_posts=15)
    assert (first.consumed, len(first.paid), first.more) == (2, 20, True), "a period is settled whole"
    again = bonus.pay_batch(world.conn, world.clock.now(), ids=due, max_posts=15)
    assert (again.consumed, again.periods, len(again.paid)) == (3, 1, 10), "settled ids are skipped"
    assert all(world.view(p)["bonusBalance"] == 10 * 60 for p in people)


def test_economy_jobs_list_on_a_reader_and_settle_in_small_write_units(tmp_path, world):
    import asyncio

    from halobuzz.config import Settings
    from halobuzz.db import Database
    from halobuzz.economy.service import Economy

    published = []
    people = [world.user() for _ in range(7)]
    for p in people:
        world.grant(p, 10_000)
        buy(world, p, 1)

    async def scenario():
        db = Database(tmp_path / "money.db", synchronous="OFF", publish=published.extend)
        await db.open()
        units = []
        real_write = db.write

        async def counting_write(fn, after=None):
            units.append(fn)
            return await real_write(fn, after)

        db.write = counting_write
        eco = Economy(db, world.clock, None, Settings(data_dir=tmp_path))
        eco.job_batch = 3
        try:
            assert await eco.run_daily_bonus() == 7 and len(units) == 3
            assert await eco.run_daily_bonus() == 0 and len(units) == 3, "nothing due: no write unit at all"
            world.clock.advance(days=31)
            units.clear()
            assert await eco.run_og_expiry() == 7 and len(units) == 3
            assert [e.data["ogLevel"] for e in published] == [0] * 7
            assert await eco.run_og_expiry() == 0
        finally:
            await db.close()

    asyncio.run(scenario())
