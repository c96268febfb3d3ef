import pytest

from halobuzz.errors import Conflict
from halobuzz.events import OG_CHANGED
from halobuzz.og import bonus, subscribe, tiers
from halobuzz.wallet import ledger, wallet

TIERS = tiers.load()
SPEND = wallet.SpendPolicy(0, 2000)


def buy(world, user, tier, key=None):
    world.n += 1
    return subscribe.subscribe(world.conn, user_id=user, tier=TIERS[tier], key=key or f"og{world.n}",
                               sub_id=f"sub{world.n}", now=world.clock.now(), spend=SPEND)


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
    # 20 of 30 days unused on the current period -> 2000 credit against 9000
    assert up.response["kind"] == "upgrade" and up.response["credit"] == 2000
    assert before - world.view(u)["balance"] == 7000
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
