"""Tournaments on a real SQLite file: byes, no-shows, double elimination, prizes, cancel."""

import json
from datetime import timedelta

import pytest

from halobuzz.errors import Conflict
from halobuzz.games import escrow
from halobuzz.games import tournaments as T
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger


def _make(world, rules, n, fmt="single", split=(7000, 3000)):
    users = [world.user() for _ in range(n)]
    for u in users:
        world.grant(u, 1000)
    ev = []
    t = T.create(
        world.conn,
        rules,
        name="cup",
        format=fmt,
        entry_fee=100,
        max_players=16,
        starts_at=world.clock.now() + timedelta(minutes=5),
        now=world.clock.now(),
        created_by=None,
        split_bps=split,
        match_seconds=30,
        events=ev,
    )
    for u in users:
        T.register(world.conn, rules, t["id"], u, world.clock.now())
    world.clock.advance(minutes=5)
    T.step(world.conn, rules, world.clock.now(), ev)
    return t["id"], users, ev


def _play_all(world, rules, tid, ev, loser_answers_wrong=True):
    """Player a of every ready match answers right (b never answers)."""
    for _ in range(100):
        ready = world.conn.execute(
            "SELECT * FROM tournament_matches WHERE tournament_id = ? AND status = 'ready' ORDER BY match_no", (tid,)
        ).fetchall()
        if not ready:
            return
        for m in ready:
            world.clock.advance(seconds=1)
            T.answer(
                world.conn,
                rules,
                tid,
                m["match_no"],
                m["player_a"],
                json.loads(m["puzzle"])["answer"],
                world.clock.now(),
                ev,
            )


def test_single_elimination_with_byes_pays_by_place(world, rules):
    tid, users, ev = _make(world, rules, 5)
    b = T.bracket(world.conn, tid)
    assert b["status"] == "running" and len(b["matches"]) == 7
    byes = [m for m in b["matches"] if m["how"] == "bye"]
    assert len(byes) == 3  # 8 slots, 5 players: seeds 1-3 get byes
    _play_all(world, rules, tid, ev)
    b = T.bracket(world.conn, tid)
    assert b["status"] == "finished" and b["serverSeed"]
    places = {p["place"]: p for p in b["players"] if p["place"]}
    # pot 500, house 10 % -> 450: 315 / 135
    assert places[1]["payout"] == 315 and places[2]["payout"] == 135
    assert escrow.held(world.conn, tid) == 0 and ledger.balance(world.conn, A.GAME_POOL) == 50
    assert ev[-1].name == "tournament:finished"
    world.check_ledger()


def test_double_elimination_runs_to_a_grand_final(world, rules):
    tid, users, ev = _make(world, rules, 6, fmt="double", split=(5000, 3000, 2000))
    _play_all(world, rules, tid, ev)
    b = T.bracket(world.conn, tid)
    assert b["status"] == "finished"
    places = {p["place"] for p in b["players"] if p["place"]}
    assert places == {1, 2, 3}
    # every player lost at most twice and the champion at most once
    losses = {u: 0 for u in users}
    for m in b["matches"]:
        if m["status"] == "done" and m["how"] not in ("bye", "empty"):
            losses[m["a"] if m["winner"] == m["b"] else m["b"]] += 1
    assert max(losses.values()) <= 2
    world.check_ledger()


def test_no_show_better_seed_advances_and_wrong_answer_loses(world, rules):
    tid, (a, b), ev = _make(world, rules, 2)
    m = world.conn.execute(
        "SELECT * FROM tournament_matches WHERE tournament_id = ? AND status = 'ready'", (tid,)
    ).fetchone()
    world.clock.advance(seconds=31)
    T.step(world.conn, rules, world.clock.now(), ev)
    m = world.conn.execute(
        "SELECT * FROM tournament_matches WHERE tournament_id = ? AND match_no = ?", (tid, m["match_no"])
    ).fetchone()
    assert m["how"].startswith("no-show") and m["winner"] == a  # seed 1 (registered first)
    tid2, (c, d), ev = _make(world, rules, 2)
    m = world.conn.execute(
        "SELECT * FROM tournament_matches WHERE tournament_id = ? AND status = 'ready'", (tid2,)
    ).fetchone()
    out = T.answer(world.conn, rules, tid2, m["match_no"], m["player_a"], -1, world.clock.now(), ev)
    assert not out["won"]
    assert T.bracket(world.conn, tid2)["outcome"]["places"]["1"] == m["player_b"]
    world.check_ledger()


def test_too_few_players_cancels_and_refunds(world, rules):
    tid, (a,), ev = _make(world, rules, 1)
    assert T.bracket(world.conn, tid)["status"] == "cancelled" and world.paid(a) == 1000
    with pytest.raises(Conflict):
        T.register(world.conn, rules, tid, world.user(), world.clock.now())
    world.check_ledger()
