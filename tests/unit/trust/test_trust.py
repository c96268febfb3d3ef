"""The trust score: the pure scoring rule, signals read from a real migrated database, gates
that name their rule, and admin verification as the only way to `verified`."""

from datetime import timedelta

import pytest

from halobuzz.accounts import audit
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.infra.clock import FrozenClock, iso
from halobuzz.moderation.reports import adjust_trust
from halobuzz.trust import scoring, service, signals
from halobuzz.trust.gates import GatePolicy, Gates, TrustGateRefused
from halobuzz.trust.scoring import Signals, score
from tests.support.world import T0, World

ADMIN = audit.Actor(name="root@x.io", source="cli")


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "t.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(T0))
    yield w
    conn.close()


def test_new_account_starts_in_the_middle():
    s = score(Signals())
    assert (s.score, s.level) == (50, "medium") and s.top() == []


def test_each_signal_moves_the_score_with_its_cap():
    assert score(Signals(account_days=3650)).score == 60  # age capped at +10
    assert score(Signals(payments=2)).score == 56
    assert score(Signals(payments=100)).score == 62  # capped at +12
    assert score(Signals(streaming_seconds=50 * 3600)).score == 60
    assert score(Signals(coins_earned=3500)).score == 53
    assert score(Signals(reports_upheld=1, reports_dismissed=1)).score == 51
    assert score(Signals(confirmed_delta=-10)).score == 40
    assert score(Signals(chargebacks=1)).score == 35
    assert score(Signals(refunds=1)).score == 45
    assert score(Signals(chargebacks=10)).score == 0  # clamped


def test_automated_blocks_weigh_less_than_confirmed_actions():
    one_auto = 50 - score(Signals(automated_blocks=1)).score
    one_confirmed_warn = 50 - score(Signals(confirmed_delta=-2)).score  # the lightest confirmed action
    assert 0 < one_auto < one_confirmed_warn
    assert score(Signals(automated_blocks=1000)).score == 35  # capped at -15


def test_levels_and_verification():
    assert scoring.level_of(39, False) == "low"
    assert scoring.level_of(40, False) == "medium"
    assert scoring.level_of(70, False) == "high"
    assert scoring.level_of(55, True) == "verified"
    assert scoring.level_of(20, True) == "low"  # a verified account that lost trust is not `verified`


def test_top_contributions_explain_the_score():
    s = score(Signals(chargebacks=1, payments=1, account_days=90))
    assert [c["kind"] for c in s.top(2)] == ["chargebacks", "account_age"]  # -15, then +3 (tie -> by name)
    assert s.top()[0]["points"] == -15 and "chargebacks" in s.top()[0]["detail"]


def test_signals_come_from_the_owners_tables(world):
    u = world.user()
    now = world.clock.now()
    adjust_trust(world.conn, u, -5, "delete confirmed: spam", now)
    adjust_trust(world.conn, u, +1, "report confirmed", now)
    world.conn.execute(
        "INSERT INTO moderation_decisions(at, kind, source, user_id, model_id, score, action) "
        "VALUES (?, 'text', 'chat', ?, 'm', 0.95, 'block')",
        (iso(now), u),
    )
    world.conn.execute(
        "INSERT INTO streams(id, host_id, title, country, status, created_at, duration_seconds) "
        "VALUES ('s1', ?, 't', 'NP', 'ended', ?, ?)",
        (u, iso(now), 11 * 3600),
    )
    got = signals.gather(world.conn, u, now + timedelta(days=65))
    assert (got.account_days, got.confirmed_delta, got.reports_upheld, got.automated_blocks, got.streaming_seconds) == (
        65,
        -5,
        1,
        1,
        11 * 3600,
    )
    out = signals.explain(world.conn, u, now + timedelta(days=65))
    # 50 + 2 (age) - 5 (confirmed) + 3 (report upheld) - 1 (automated) + 2 (hours) = 51
    assert out["score"] == 51 and out["level"] == "medium"
    assert out["topContributions"][0]["kind"] == "confirmed_moderation"


def test_gates_refuse_naming_the_rule(world):
    u, friend = world.user(), world.user()
    for i in range(4):
        adjust_trust(world.conn, u, -10, f"ban confirmed: {i}", world.clock.now())
    gates = Gates(GatePolicy(dm_strangers=30, go_live=20, payouts=40, tournament_entry=30), world.clock)
    for gate, rule in (
        ("go_live", "trust_min_go_live"),
        ("payouts", "trust_min_payouts"),
        ("tournament_entry", "trust_min_tournament_entry"),
    ):
        with pytest.raises(TrustGateRefused) as e:
            gates.check(world.conn, u, gate)
        assert e.value.status == 403 and e.value.extra["rule"] == rule and rule in e.value.message
        assert e.value.extra["score"] == 10
    with pytest.raises(TrustGateRefused):
        gates.check_dm(world.conn, u, friend)
    a, b = sorted((u, friend))
    world.conn.execute(
        "INSERT INTO dm_conversations(id, user_a, user_b, created_at, last_message_at) VALUES ('c', ?, ?, ?, ?)",
        (a, b, iso(world.clock.now()), iso(world.clock.now())),
    )
    gates.check_dm(world.conn, u, friend)  # a reply in an existing conversation passes
    Gates(GatePolicy(go_live=0), world.clock).check(world.conn, u, "go_live")  # 0 = gate off
    gates.check(world.conn, friend, "payouts")  # a new account (50) passes


def test_verification_is_audited_and_reaches_verified(world):
    u = world.user()
    out = service.set_verified(world.conn, u, True, ADMIN, world.clock.now(), "ID checked")
    assert out["level"] == "verified"
    assert world.conn.execute("SELECT trust_verified FROM users WHERE id = ?", (u,)).fetchone()[0] == 1
    out = service.set_verified(world.conn, u, False, ADMIN, world.clock.now())
    assert out["level"] == "medium"
    assert [e["action"] for e in audit.entries(world.conn, target_id=u)] == ["trust.unverify", "trust.verify"]
