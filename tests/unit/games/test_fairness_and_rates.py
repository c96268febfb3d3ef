"""Seeded statistical test of the AI win draw, the 35–55 % band, and the Wilson report."""

import random

import pytest

from halobuzz.errors import Invalid
from halobuzz.games import fairness, rates


@pytest.mark.parametrize("p", [0.35, 0.45, 0.55])
def test_ten_thousand_draws_follow_p_within_the_99_percent_interval(p):
    rng = random.Random(int(p * 100))
    bps = rates.to_bps(p)
    wins = 0
    for i in range(10_000):
        seed = rng.randbytes(32).hex()
        seeds_hash = fairness.client_seeds_hash([f"client-{rng.randrange(10**9)}"])
        d = fairness.Draws(seed, seeds_hash, f"R{i}")
        wins += d.happens(bps)
    low, high = rates.wilson(wins, 10_000)
    assert low <= p <= high, (p, wins, low, high)


@pytest.mark.parametrize("p", [0.30, 0.60, 0.3499, 0.5501, -1, 2, float("nan")])
def test_p_outside_the_band_is_refused_with_the_rule(p):
    with pytest.raises(Invalid) as exc:
        rates.to_bps(p)
    assert "between 35 % and 55 %" in str(exc.value)


def test_band_edges_are_allowed():
    assert rates.to_bps(0.35) == 3500 and rates.to_bps("0.55") == 5500


def test_wilson_matches_the_textbook_value():
    # 50/100 at z = 2.5758: centre 0.5, half-width ~0.1245
    low, high = rates.wilson(50, 100)
    assert abs(low - 0.3755) < 0.001 and abs(high - 0.6245) < 0.001


def test_pick_is_uniform_enough_and_in_range():
    counts = [0] * 7
    for i in range(7000):
        counts[fairness.pick(fairness.uniform("ab" * 32, "h", "R", i), 7)] += 1
    assert all(850 < c < 1150 for c in counts)


def test_commitment_and_recompute():
    seed = fairness.new_server_seed()
    assert len(seed) == 64 and fairness.verify_commitment(seed, fairness.commitment(seed))
    d = fairness.Draws(seed, "x", "R1")
    d.pick(10)
    d.happens(4500)
    for entry in d.log:
        assert fairness.recompute(seed, "x", "R1", entry) == entry["result"]


def test_game_events_ride_the_essential_lane():
    from halobuzz import events as ev
    from halobuzz.realtime import protocol

    for name in (*ev.GAME_EVENTS, *ev.TOURNAMENT_EVENTS):
        want = protocol.PRESENCE if name == ev.GAME_JOINED else protocol.ESSENTIAL
        assert protocol.LANES[name] == want, name
