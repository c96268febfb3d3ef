"""The async Games service on a real Database: idempotent stakes, nonces, rate limit, admin band."""

import asyncio

import pytest

from halobuzz import config
from halobuzz.accounts import audit
from halobuzz.db import Database
from halobuzz.errors import Conflict, Invalid, RateLimited
from halobuzz.events import GAME_RESULT, Bus
from halobuzz.games.service import Games
from halobuzz.infra.clock import FrozenClock
from halobuzz.infra.ids import IdFactory, SeededRandom
from halobuzz.wallet import wallet
from tests.support.world import T0, World


def run(coro):
    return asyncio.run(coro)


async def _service(tmp_path, **settings):
    s = config.load(tmp_path, env={}, games_compliance={"NP": "games_of_chance=true"}, **settings)
    bus = Bus()
    db = Database(s.db_path, synchronous="OFF", publish=bus.publish_all)
    await db.open()
    clock = FrozenClock(T0)
    games = Games(db, clock, IdFactory(clock, SeededRandom(3)), s)
    return db, bus, clock, games


def _user(db, clock, coins=1000):
    out = {}

    def unit(conn):
        w = World(conn, clock)
        w.n = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] + 100
        uid = w.user()
        wallet.adjust(conn, f"g-{uid}", uid, coins, "paid", "test", clock.now())
        out["id"] = uid

    db.writer.write_sync(unit)
    return out["id"]


def test_challenge_through_the_service(tmp_path):
    async def main():
        db, bus, clock, games = await _service(tmp_path)
        seen = []
        bus.subscribe(GAME_RESULT, seen.append)
        await games.start()
        a = _user(db, clock)
        r = await games.open_round(a, "challenge", stake=10)
        status, first, replayed = await games.join(a, r["id"], key="join-key-1", client_seed="abc")
        status2, again, replayed2 = await games.join(a, r["id"], key="join-key-1", client_seed="abc")
        assert (status, replayed, replayed2) == (201, False, True) and again == first
        st = await db.readers.fetchone("SELECT state FROM game_rounds WHERE id = ?", (r["id"],))
        value = __import__("json").loads(st[0])["puzzle"]["answer"]
        clock.advance(seconds=2)
        out = await games.answer(a, r["id"], nonce="nonce-aaaa-1", value=value)
        assert out["solved"]
        with pytest.raises(Conflict):
            await games.answer(a, r["id"], nonce="nonce-aaaa-1", value=value)
        await asyncio.sleep(0)
        assert seen and seen[0].data["roundId"] == r["id"]
        await games.stop()
        await db.close()

    run(main())


def test_rate_limit_and_admin_band(tmp_path):
    async def main():
        db, bus, clock, games = await _service(tmp_path, games_rate="3/1m")
        await games.start()
        a = _user(db, clock)
        for _ in range(3):
            await games.open_round(a, "challenge", stake=10)
        with pytest.raises(RateLimited):
            await games.open_round(a, "challenge", stake=10)
        actor = audit.Actor("root@x", "api")
        with pytest.raises(Invalid) as exc:
            await games.set_game_settings("challenge", actor, ai_win_rate=0.60)
        assert "between 35 % and 55 %" in exc.value.message
        out = await games.set_game_settings("challenge", actor, ai_win_rate=0.40)
        assert out["aiWinRate"] == 0.40 and games.rules.ai_win_bps["challenge"] == 4000
        await games.stop()
        await db.close()

    run(main())


def test_config_refuses_p_outside_the_band(tmp_path):
    for bad in ("0.30", "0.60"):
        with pytest.raises(config.ConfigError) as exc:
            config.load(tmp_path, env={"HALOBUZZ_GAMES_AI_WIN_RATE": bad})
        assert "between 35 % and 55 %" in str(exc.value)
