"""Compliance packs: every required country, refusals that name the rule, overrides audited."""

import pytest

from halobuzz.accounts import audit
from halobuzz.errors import Forbidden
from halobuzz.games import engine, lottery, quiz
from halobuzz.games.compliance import PackError, Packs
from halobuzz.infra.clock import iso
from halobuzz.resources import assets_dir

from .conftest import make_rules


def test_required_packs_load():
    packs = Packs.load(assets_dir() / "compliance")
    for cc in ("NP", "IN", "BD", "US", "GB", "AE"):
        p = packs.for_country(cc)
        assert p.currency and p.max_stake > 0 and p.daily_loss_limit > 0
    assert packs.get("FR").country == "FR" and not packs.get("FR").games_of_chance


def test_bad_override_is_refused():
    with pytest.raises(PackError):
        Packs.load(assets_dir() / "compliance", {"NP": "max_stake=lots"})
    with pytest.raises(PackError):
        Packs.load(assets_dir() / "compliance", {"XX": "max_stake=1"})


def _lottery(world, rules):
    return lottery.open_round(
        world.conn, rules, price=10, draws_at=world.clock.now().replace(hour=14), now=world.clock.now(), events=[]
    )


def test_ticket_from_a_country_that_forbids_it_is_a_403_naming_the_rule(world):
    rules = make_rules(overrides={})
    a = world.user()
    world.grant(a)
    r = _lottery(world, rules)
    with pytest.raises(Forbidden) as exc:
        engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[])
    assert exc.value.code == "compliance_games_of_chance"
    assert "NP.games_of_chance = false" in exc.value.message
    assert world.paid(a) == 10_000


def test_sixteen_year_old_never_plays_games_of_chance(world, rules):
    kid = world.user(birth="2010-01-01")
    world.grant(kid, 500)
    r = _lottery(world, rules)
    with pytest.raises(Forbidden) as exc:
        engine.join(world.conn, rules, r["id"], kid, world.clock.now(), events=[])
    assert exc.value.code == "minor_restricted" and "under 18" in exc.value.message


def test_max_stake_and_daily_loss_limit(world, rules):
    a = world.user()
    world.grant(a, 100_000)
    r = _lottery(world, rules)
    with pytest.raises(Forbidden) as exc:  # NP max_stake 1000
        engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[], count=101)
    assert exc.value.code == "compliance_max_stake"
    for _ in range(5):  # 5 x 1000 = the NP daily loss limit
        engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[], count=100)
    with pytest.raises(Forbidden) as exc:
        engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[], count=1)
    assert exc.value.code == "compliance_daily_loss_limit"


def test_india_refuses_even_the_skill_quiz(world):
    rules = make_rules()
    host = world.user()
    room = world.stream(host)
    a = world.user()
    world.conn.execute("UPDATE users SET country = 'IN' WHERE id = ?", (a,))
    world.grant(a)
    r = quiz.open_round(world.conn, rules, host_id=host, room_id=room, entry_fee=10, now=world.clock.now(), events=[])
    with pytest.raises(Forbidden) as exc:
        engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[])
    assert exc.value.code == "compliance_paid_skill_contests"


def test_override_is_audited_once_per_change(world):
    actor = audit.Actor("job:start", "job")
    packs = Packs.load(assets_dir() / "compliance", {"NP": "games_of_chance=true,max_stake=500"})
    assert packs.get("NP").max_stake == 500
    at = iso(world.clock.now())
    assert packs.record_overrides(world.conn, actor, at) == ["NP"]
    assert packs.record_overrides(world.conn, actor, at) == []
    assert Packs.load(assets_dir() / "compliance").record_overrides(world.conn, actor, at) == ["NP"]
    n = world.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'compliance.override'").fetchone()[0]
    assert n == 2
