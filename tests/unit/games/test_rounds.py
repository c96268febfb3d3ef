"""The four games end to end on a real migrated SQLite file: coins, state machine, proofs."""

import hashlib
import hmac

import pytest

from halobuzz.errors import Conflict, Forbidden, Invalid
from halobuzz.events import GAME_DRAW, GAME_QUESTION, GAME_RESULT
from halobuzz.games import battle, challenge, engine, escrow, lottery, quiz, rounds
from halobuzz.wallet import accounts as A
from halobuzz.wallet import ledger


def step_until_done(world, rules, round_id, events, seconds=1):
    for _ in range(1000):
        r = rounds.get(world.conn, round_id)
        if r["status"] not in rounds.LIVE:
            return r
        world.clock.advance(seconds=seconds)
        engine.step(world.conn, rules, round_id, world.clock.now(), events)
    raise AssertionError("round never ended")


def test_quiz_round_pays_the_best_player(world, rules):
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    ev = []
    r = quiz.open_round(
        world.conn,
        rules,
        host_id=host,
        room_id=room,
        entry_fee=100,
        now=world.clock.now(),
        events=ev,
        n=3,
        seconds=10,
        lobby_seconds=5,
    )
    for u in (a, b):
        engine.join(world.conn, rules, r["id"], u, world.clock.now(), events=ev, client_seed=f"seed-{u}")
    world.clock.advance(seconds=5)
    assert engine.step(world.conn, rules, r["id"], world.clock.now(), ev)
    st = rounds.state(rounds.get(world.conn, r["id"]))
    assert rounds.get(world.conn, r["id"])["status"] == "running"
    assert [e.name for e in ev].count(GAME_QUESTION) == 1
    world.clock.advance(seconds=2)
    right = rules.bank.by_id[st["picked"][0]].answer
    engine.answer(world.conn, rules, r["id"], a, world.clock.now(), question=0, choice=right, value=None, events=ev)
    engine.answer(
        world.conn, rules, r["id"], b, world.clock.now(), question=0, choice=(right + 1) % 4, value=None, events=ev
    )
    with pytest.raises(Conflict):
        engine.answer(world.conn, rules, r["id"], a, world.clock.now(), question=0, choice=right, value=None, events=ev)
    with pytest.raises(Conflict):  # question 1 is not open yet
        engine.answer(world.conn, rules, r["id"], a, world.clock.now(), question=1, choice=0, value=None, events=ev)
    done = step_until_done(world, rules, r["id"], ev)
    assert done["status"] == "settled"
    # pot 200, house 10 % = 20, winner a gets 180
    assert world.paid(a) == 10_000 - 100 + 180
    assert world.paid(b) == 10_000 - 100
    assert ledger.balance(world.conn, escrow.escrow_account(r["id"])) == 0
    assert ledger.balance(world.conn, A.GAME_POOL) == 20
    assert [e.name for e in ev].count(GAME_QUESTION) == 3
    assert ev[-1].name == GAME_RESULT and ev[-1].data["serverSeed"]
    world.check_ledger()


def test_quiz_with_one_player_is_refunded(world, rules):
    host, a = world.user(), world.user()
    room = world.stream(host)
    world.grant(a)
    ev = []
    r = quiz.open_round(
        world.conn, rules, host_id=host, room_id=room, entry_fee=50, now=world.clock.now(), events=ev, lobby_seconds=1
    )
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=ev)
    done = step_until_done(world, rules, r["id"], ev)
    assert done["status"] == "refunded" and world.paid(a) == 10_000
    world.check_ledger()


def test_only_the_host_opens_a_quiz_and_cannot_play(world, rules):
    host, a = world.user(), world.user()
    room = world.stream(host)
    with pytest.raises(Forbidden):
        quiz.open_round(world.conn, rules, host_id=a, room_id=room, entry_fee=50, now=world.clock.now(), events=[])
    r = quiz.open_round(world.conn, rules, host_id=host, room_id=room, entry_fee=50, now=world.clock.now(), events=[])
    world.grant(host)
    with pytest.raises(Forbidden):
        engine.join(world.conn, rules, r["id"], host, world.clock.now(), events=[])


def test_lottery_draw_pays_the_pool_minus_house_share(world, rules):
    players = [world.user() for _ in range(5)]
    for u in players:
        world.grant(u)
    ev = []
    r = lottery.open_round(
        world.conn, rules, price=10, draws_at=world.clock.now().replace(hour=13), now=world.clock.now(), events=ev
    )
    for i, u in enumerate(players):
        engine.join(world.conn, rules, r["id"], u, world.clock.now(), events=ev, count=i + 1, client_seed=f"c{i}")
    world.clock.advance(hours=1)
    engine.step(world.conn, rules, r["id"], world.clock.now(), ev)
    done = rounds.get(world.conn, r["id"])
    assert done["status"] == "settled"
    out = rounds.proof(world.conn, r["id"])
    assert out["verified"] and len(out["clientSeeds"]) == 15
    # 15 tickets x 10 = 150; house 15; pool 135 -> 67 + 40 + 27 = 134, 1 coin rounding to the house
    total_paid = sum(world.paid(u) for u in players) - 5 * 10_000 + 150
    assert total_paid == 134
    assert ledger.balance(world.conn, A.GAME_POOL) == 16
    assert ev[-1].name == GAME_DRAW
    world.check_ledger()


def test_challenge_solved_goes_to_the_fair_draw(world, rules):
    a = world.user()
    world.grant(a)
    outcomes = set()
    for i in range(30):
        ev = []
        r = challenge.open_round(world.conn, rules, user_id=a, stake=10, now=world.clock.now(), events=ev)
        out = engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=ev, client_seed=f"s{i}")
        st = rounds.state(rounds.get(world.conn, r["id"]))
        assert out["puzzle"]["text"] == st["puzzle"]["text"]
        world.clock.advance(seconds=3)
        res = engine.answer(
            world.conn,
            rules,
            r["id"],
            a,
            world.clock.now(),
            question=None,
            choice=None,
            value=st["puzzle"]["answer"],
            events=ev,
        )
        assert res["solved"]
        outcomes.add(res["aiWon"])
        assert res["payouts"] == ({} if res["aiWon"] else {a: 18})  # pot 20, house 2
    assert outcomes == {True, False}
    world.check_ledger()


def test_challenge_wrong_answer_and_timeout_forfeit(world, rules):
    a = world.user()
    world.grant(a)
    r = challenge.open_round(world.conn, rules, user_id=a, stake=10, now=world.clock.now(), events=[])
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[])
    st = rounds.state(rounds.get(world.conn, r["id"]))
    world.clock.advance(seconds=2)
    res = engine.answer(
        world.conn,
        rules,
        r["id"],
        a,
        world.clock.now(),
        question=None,
        choice=None,
        value=st["puzzle"]["answer"] + 1,
        events=[],
    )
    assert not res["solved"] and res["aiWon"] is None
    r2 = challenge.open_round(world.conn, rules, user_id=a, stake=10, now=world.clock.now(), events=[])
    engine.join(world.conn, rules, r2["id"], a, world.clock.now(), events=[])
    done = step_until_done(world, rules, r2["id"], [], seconds=5)
    assert done["status"] == "settled" and done["ai_won"] is None
    assert world.paid(a) == 10_000 - 20
    world.check_ledger()


def test_battle_ai_fields_the_empty_team(world, rules):
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    ev = []
    r = battle.open_round(
        world.conn,
        rules,
        host_id=host,
        room_id=room,
        stake=20,
        now=world.clock.now(),
        events=ev,
        n=2,
        seconds=10,
        lobby_seconds=2,
    )
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=ev, team="a")
    engine.join(world.conn, rules, r["id"], b, world.clock.now(), events=ev, team="a")
    with pytest.raises(Invalid):
        engine.join(world.conn, rules, r["id"], host, world.clock.now(), events=ev, team="c")
    world.clock.advance(seconds=2)
    engine.step(world.conn, rules, r["id"], world.clock.now(), ev)
    rr = rounds.get(world.conn, r["id"])
    st = rounds.state(rr)
    assert st["aiTeam"] == "b" and escrow.held(world.conn, r["id"]) == 80
    world.clock.advance(seconds=1)
    right = rules.bank.by_id[st["picked"][0]].answer
    engine.answer(world.conn, rules, r["id"], a, world.clock.now(), question=0, choice=right, value=None, events=ev)
    done = step_until_done(world, rules, r["id"], ev)
    assert done["status"] == "settled" and done["ai_won"] in (0, 1)
    if done["ai_won"]:
        assert world.paid(a) == world.paid(b) == 10_000 - 20
    else:  # pot 80, house 8, 36 each
        assert world.paid(a) == world.paid(b) == 10_000 - 20 + 36
    world.check_ledger()


def test_recovery_refunds_running_and_draws_due_lotteries_once(world, rules):
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    ev = []
    q = quiz.open_round(
        world.conn, rules, host_id=host, room_id=room, entry_fee=30, now=world.clock.now(), events=ev, lobby_seconds=1
    )
    for u in (a, b):
        engine.join(world.conn, rules, q["id"], u, world.clock.now(), events=ev)
    world.clock.advance(seconds=1)
    engine.step(world.conn, rules, q["id"], world.clock.now(), ev)
    lot = lottery.open_round(
        world.conn, rules, price=5, draws_at=world.clock.now().replace(hour=13), now=world.clock.now(), events=ev
    )
    engine.join(world.conn, rules, lot["id"], a, world.clock.now(), events=ev, count=3)
    world.clock.advance(hours=2)
    first = engine.recover(world.conn, rules, world.clock.now(), ev)
    assert first["refunded"] == [q["id"]] and first["drawn"] == [lot["id"]]
    assert engine.recover(world.conn, rules, world.clock.now(), ev) == {
        "refunded": [],
        "drawn": [],
        "resumed": [],
        "expired": [],
    }
    world.check_ledger()


def test_proof_recomputes_with_plain_hmac(world, rules):
    a = world.user()
    world.grant(a)
    r = challenge.open_round(world.conn, rules, user_id=a, stake=10, now=world.clock.now(), events=[])
    assert rounds.proof(world.conn, r["id"])["serverSeed"] is None
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=[], client_seed="my-seed")
    st = rounds.state(rounds.get(world.conn, r["id"]))
    engine.answer(
        world.conn,
        rules,
        r["id"],
        a,
        world.clock.now().replace(second=5),
        question=None,
        choice=None,
        value=st["puzzle"]["answer"],
        events=[],
    )
    p = rounds.proof(world.conn, r["id"])
    # independent: hashlib/hmac only, from the published algorithm
    assert hashlib.sha256(p["serverSeed"].encode()).hexdigest() == p["seedHash"]
    seeds_hash = hashlib.sha256("\n".join(p["clientSeeds"]).encode()).hexdigest()
    assert seeds_hash == p["clientSeedsHash"]
    for d in p["draws"]:
        mac = hmac.new(
            p["serverSeed"].encode(), f"{seeds_hash}:{p['roundId']}:{d['nonce']}".encode(), hashlib.sha256
        ).digest()
        u = int.from_bytes(mac[:6], "big")
        if d["kind"] == "pick":
            assert d["result"] == u * d["n"] // 2**48
        else:
            assert d["result"] == (u * 10000 < d["pBps"] * 2**48)
    assert [d["use"] for d in p["draws"]] == ["puzzle a", "puzzle b", "puzzle c", "ai wins"]


def test_battle_gifts_count_for_the_giver_s_team(world, rules):
    from halobuzz.gifts import catalog
    from halobuzz.gifts.send import GiftPolicy, send_gift
    from halobuzz.resources import assets_dir
    from halobuzz.wallet import wallet

    catalog.seed(world.conn, catalog.load_seed(assets_dir()), world.clock.now())
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    ev = []
    r = battle.open_round(
        world.conn,
        rules,
        host_id=host,
        room_id=room,
        stake=20,
        now=world.clock.now(),
        events=ev,
        n=1,
        seconds=10,
        lobby_seconds=1,
    )
    engine.join(world.conn, rules, r["id"], a, world.clock.now(), events=ev, team="a")
    engine.join(world.conn, rules, r["id"], b, world.clock.now(), events=ev, team="b")
    world.clock.advance(seconds=1)
    engine.step(world.conn, rules, r["id"], world.clock.now(), ev)
    policy = GiftPolicy(3000, 7, 5, wallet.SpendPolicy(0, 0))
    send_gift(
        world.conn,
        sender_id=b,
        stream_id=room,
        gift_id="heart",
        quantity=3,
        key="gift-1",
        policy=policy,
        now=world.clock.now(),
    )
    done = step_until_done(world, rules, r["id"], ev)
    out = __import__("json").loads(done["outcome"])
    assert out["scores"]["b"] == 15 and out["scores"]["a"] == 0 and out["winner"] == "b"
    assert done["ai_won"] is None  # two human teams: no draw at p
    world.check_ledger()


def test_host_starts_the_quiz_early(world, rules):
    host, a, b = world.user(), world.user(), world.user()
    room = world.stream(host)
    for u in (a, b):
        world.grant(u)
    r = quiz.open_round(
        world.conn, rules, host_id=host, room_id=room, entry_fee=10, now=world.clock.now(), events=[], lobby_seconds=600
    )
    for u in (a, b):
        engine.join(world.conn, rules, r["id"], u, world.clock.now(), events=[])
    with pytest.raises(Forbidden):
        engine.start_now(world.conn, r["id"], a, world.clock.now())
    engine.start_now(world.conn, r["id"], host, world.clock.now())
    assert engine.step(world.conn, rules, r["id"], world.clock.now(), [])
    assert rounds.get(world.conn, r["id"])["status"] == "running"
