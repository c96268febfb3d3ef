"""Replayed nonces, inhuman answer times and same-IP rings."""

import pytest

from halobuzz.errors import Conflict, Invalid
from halobuzz.games import anticheat, engine, lottery, quiz, rounds


def test_nonce_replay_is_refused(world):
    a = world.user()
    anticheat.use_nonce(world.conn, a, "nonce-0001", world.clock.now())
    with pytest.raises(Conflict):
        anticheat.use_nonce(world.conn, a, "nonce-0001", world.clock.now())
    with pytest.raises(Invalid):
        anticheat.use_nonce(world.conn, a, "x", world.clock.now())


def test_too_fast_answer_is_flagged_into_the_review_queue(world, rules):
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    r = quiz.open_round(
        world.conn, rules, host_id=host, room_id=room, entry_fee=10, now=world.clock.now(), events=[], lobby_seconds=1
    )
    for u in (a, b):
        engine.join(world.conn, rules, r["id"], u, world.clock.now(), events=[])
    world.clock.advance(seconds=1)
    engine.step(world.conn, rules, r["id"], world.clock.now(), [])
    world.clock.advance(seconds=0.05)
    out = engine.answer(world.conn, rules, r["id"], a, world.clock.now(), question=0, choice=0, value=None, events=[])
    assert out["flagged"] and out["ms"] == 50
    flags = world.conn.execute("SELECT * FROM moderation_flags WHERE target_user_id = ?", (a,)).fetchall()
    assert len(flags) == 1 and "faster than human" in flags[0]["reason"] and flags[0]["status"] == "pending"


def test_same_ip_accounts_in_a_won_lottery_are_flagged(world, rules):
    a, b, c = world.user(), world.user(), world.user()
    for u in (a, b, c):
        world.grant(u)
    r = lottery.open_round(
        world.conn,
        rules,
        price=10,
        draws_at=world.clock.now().replace(hour=13),
        now=world.clock.now(),
        events=[],
        split_bps=(10_000,),
    )
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[], ip="10.0.0.1")
    engine.join(world.conn, rules, r["id"], b, world.clock.now(), events=[], ip="10.0.0.1")
    engine.join(world.conn, rules, r["id"], c, world.clock.now(), events=[], ip="10.0.0.2")
    world.clock.advance(hours=1)
    engine.step(world.conn, rules, r["id"], world.clock.now(), [])
    winner = rounds.get(world.conn, r["id"])
    flagged = {row[0] for row in world.conn.execute("SELECT target_user_id FROM moderation_flags")}
    won = set(__import__("json").loads(winner["outcome"])["payouts"])
    assert flagged == ({a, b} if won & {a, b} else set())
