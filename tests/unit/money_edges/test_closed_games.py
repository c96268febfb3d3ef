"""Money-path review (games): a tournament cancelled mid-play, lottery tickets after the draw time."""

import json
from datetime import timedelta

import pytest

from halobuzz.errors import Conflict
from halobuzz.games import escrow, lottery, rounds
from halobuzz.games import tournaments as T
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger
from tests.unit.games.conftest import make_rules


def _running(world, rules, n=4):
    users = [world.user() for _ in range(n)]
    for u in users:
        world.grant(u, 1000)
    ev = []
    t = T.create(
        world.conn,
        rules,
        name="cup",
        format="single",
        entry_fee=100,
        max_players=16,
        starts_at=world.clock.now() + timedelta(minutes=5),
        now=world.clock.now(),
        created_by=None,
        split_bps=(7000, 3000),
        match_seconds=30,
        events=ev,
    )
    for u in users:
        T.register(world.conn, rules, t["id"], u, world.clock.now())
    world.clock.advance(minutes=5)
    T.step(world.conn, rules, world.clock.now(), ev)
    return t["id"], users, ev


def test_cancelled_running_tournament_takes_no_more_answers_and_stays_cancelled(world):
    rules = make_rules()
    tid, users, ev = _running(world, rules)
    m = world.conn.execute(
        "SELECT * FROM tournament_matches WHERE tournament_id = ? AND status = 'ready' ORDER BY match_no", (tid,)
    ).fetchone()
    T.cancel(world.conn, T.get(world.conn, tid), world.clock.now(), "operator", ev)
    assert all(world.paid(u) == 1000 for u in users)
    with pytest.raises(Conflict):
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
    # the deadline passing must not play the cancelled bracket on either
    world.clock.advance(minutes=10)
    for _ in range(5):
        T.step(world.conn, rules, world.clock.now(), ev)
    t = T.get(world.conn, tid)
    assert t["status"] == "cancelled"
    assert json.loads(t["outcome"])["refunded"] == 400
    assert escrow.held(world.conn, tid) == 0 and ledger.balance(world.conn, A.GAME_POOL) == 0
    world.check_ledger()


def test_no_lottery_ticket_after_the_draw_time(world):
    """The draw is due (its time passed) but the tick has not run yet: a ticket bought now would
    join a draw that was announced as closed, and its client seed would change the draw."""
    rules = make_rules()
    ev = []
    r = lottery.open_round(
        world.conn, rules, price=10, draws_at=world.clock.now() + timedelta(minutes=5), now=world.clock.now(), events=ev
    )
    early, late = world.user(), world.user()
    world.grant(early, 1000)
    world.grant(late, 1000)
    rounds.join(world.conn, rules, r["id"], early, world.clock.now(), events=ev)
    world.clock.advance(minutes=6)
    with pytest.raises(Conflict) as exc:
        rounds.join(world.conn, rules, r["id"], late, world.clock.now(), events=ev)
    assert exc.value.code == "round_closed"
    assert world.paid(late) == 1000 and escrow.held(world.conn, r["id"]) == 10
    world.check_ledger()
