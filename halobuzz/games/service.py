"""The games as async calls for routes, jobs and the CLI: one write unit per intent.

Each call runs one write unit (rules, ledger, rows); the game code collects its events and
the unit emit()s them, so the writer publishes them after COMMIT (and drops them on a
rollback). A due-round loop moves rounds exactly when they are due (the next question,
a draw, a deadline), one write unit per round; recovery runs once before it starts.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from ..accounts import audit
from ..db import emit
from ..errors import Invalid, NotFound, RateLimited
from ..events import Event
from ..infra.clock import Clock, iso, parse_iso
from ..infra.ids import IdFactory
from ..infra.ratelimit import RateLimiter, Rule
from ..resources import assets_dir
from ..wallet import idempotency
from ..wallet.wallet import SpendPolicy
from . import anticheat, battle, challenge, engine, lottery, quiz, rates, rounds, tournaments
from .compliance import Packs
from .quizbank import Bank
from .rules import CHANCE, GAMES, Rules

log = logging.getLogger("halobuzz.games")

DESCRIPTIONS = {
    "quiz": "Host-started timed quiz in a live room; entry fees form the pool; best score wins it minus the "
    "house share.",
    "lottery": "Tickets for coins until a scheduled draw; winners by commit-reveal; pool = sales minus the "
    "house share.",
    "challenge": "Solve a timed puzzle; a solved challenge is decided against the AI by the fair draw at p.",
    "battle": "Two teams in a live room score by answers and gifts; the AI fields a team when a side is empty "
    "and then wins with probability p.",
}


def rules_from(
    settings,
    db_overrides: dict[str, tuple[int | None, int | None]] | None = None,
    new_id: Callable[[], str] | None = None,
) -> Rules:
    """Settings (validated at load) plus the admin API's stored overrides."""
    p = {
        g: rates.to_bps(settings.games_ai_win_rates.get(g, settings.games_ai_win_rate), "games_ai_win_rate")
        for g in rates.HOUSE_GAMES
    }
    house = {g: settings.games_house_bps for g in GAMES}
    for game, (p_bps, house_bps) in (db_overrides or {}).items():
        if p_bps is not None and game in p:
            p[game] = p_bps
        if house_bps is not None:
            house[game] = house_bps
    kw: dict[str, Any] = {}
    if new_id:
        kw["new_id"] = new_id
    return Rules(
        packs=Packs.load(assets_dir() / "compliance", settings.games_compliance),
        bank=Bank.load(assets_dir() / "games" / "quiz"),
        spend=SpendPolicy(settings.spend_limit_adult, settings.spend_limit_minor),
        ai_win_bps=p,
        house_bps=house,
        min_reaction_ms=settings.games_min_reaction_ms,
        **kw,
    )


def stored_overrides(conn: sqlite3.Connection) -> dict[str, tuple[int | None, int | None]]:
    return {r["game"]: (r["ai_win_bps"], r["house_bps"]) for r in conn.execute("SELECT * FROM game_settings")}


class Games:
    def __init__(
        self, db, clock: Clock, ids: IdFactory, settings, metrics: Any = None, limiter: RateLimiter | None = None
    ) -> None:
        self.db, self.clock, self.ids, self.settings = db, clock, ids, settings
        self.metrics = metrics
        self.limiter = limiter or RateLimiter()
        self.move_rule = Rule.parse(settings.games_rate)
        self.rules = rules_from(settings, new_id=ids.new)
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.recovered: dict[str, list[str]] = {}
        self.trust_gates = None  # halobuzz.trust.gates.Gates, set by the app: entering a tournament needs trust

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Apply stored settings, audit pack overrides, recover open rounds, start the loop."""
        now = self.clock.now()

        def unit(conn):
            self.rules = rules_from(self.settings, stored_overrides(conn), new_id=self.ids.new)
            self.rules.packs.record_overrides(conn, audit.Actor("job:games-start", "job"), iso(now))
            events: list[Event] = []
            done = engine.recover(conn, self.rules, now, events)
            done["matchesResumed"] = [str(tournaments.resume(conn, now))]
            for e in events:
                emit(conn, e)
            return done

        self.recovered = await self.db.write(unit)
        if any(self.recovered.get(k) for k in ("refunded", "drawn", "expired")):
            log.warning("games recovered after restart", extra={k: len(v) for k, v in self.recovered.items()})
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="games-due")

    async def stop(self) -> None:
        # A flag as well as cancel(): before 3.12, wait_for can swallow a cancel that races
        # with its inner wait finishing (the wake-up right after a write).
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _write(self, work: Callable[[sqlite3.Connection, datetime, list[Event]], Any]) -> Any:
        """One write unit: `work(conn, now, events)`; its events are emitted inside the unit."""
        now = self.clock.now()

        def unit(conn):
            events: list[Event] = []
            result = work(conn, now, events)
            for e in events:
                emit(conn, e)
            return result

        result = await self.db.write(unit)
        self._wake.set()  # a new deadline may be earlier than the loop's sleep
        return result

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_due()
                nxt = await self.db.readers.fetchone(
                    "SELECT MIN(x) FROM (SELECT MIN(next_at) AS x FROM game_rounds WHERE status IN ('open','running') "
                    "UNION ALL SELECT MIN(next_at) FROM tournaments WHERE status = 'registering' "
                    "UNION ALL SELECT MIN(due_at) FROM tournament_matches WHERE status = 'ready')"
                )
                wait = 1.0
                if nxt and nxt[0]:
                    wait = min(1.0, max(0.0, (parse_iso(nxt[0]) - self.clock.now()).total_seconds()))
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait + 0.001)
                except asyncio.TimeoutError:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("games loop step failed")
                await asyncio.sleep(1.0)

    async def run_due(self) -> int:
        """Advance every due round, one write unit each (a failing round never blocks the others)."""
        now = self.clock.now()
        ids = [
            r[0]
            for r in await self.db.readers.fetchall(
                "SELECT id FROM game_rounds WHERE status IN ('open','running') AND next_at <= ? ORDER BY next_at LIMIT 200",
                (iso(now),),
            )
        ]
        moved = 0
        for rid in ids:
            try:
                moved += bool(
                    await self._write(lambda conn, now, ev, rid=rid: engine.step(conn, self.rules, rid, now, ev))
                )
            except Exception:
                log.exception("could not advance round", extra={"round": rid})
        try:
            moved += await self._write(lambda conn, now, ev: tournaments.step(conn, self.rules, now, ev))
        except Exception:
            log.exception("could not advance tournaments")
        return moved

    # -- intents -------------------------------------------------------------------------
    def _limit(self, user_id: str) -> None:
        wait = self.limiter.hit("games", user_id, self.move_rule, time.monotonic())
        if wait:
            raise RateLimited("too many game moves; slow down", retry_after=int(wait) + 1)

    async def open_round(
        self,
        user_id: str,
        game: str,
        *,
        stake: int,
        room_id: str | None = None,
        questions: int | None = None,
        seconds: int | None = None,
        category: str | None = None,
        lobby_seconds: int | None = None,
        draws_at: datetime | None = None,
        split_bps: tuple[int, ...] | None = None,
        admin: bool = False,
    ) -> dict[str, Any]:
        self._limit(user_id)

        def work(conn, now, ev):
            if game == "quiz":
                r = quiz.open_round(
                    conn,
                    self.rules,
                    host_id=user_id,
                    room_id=_need(room_id, "roomId"),
                    entry_fee=stake,
                    now=now,
                    events=ev,
                    n=questions,
                    seconds=seconds,
                    category=category,
                    lobby_seconds=lobby_seconds,
                )
            elif game == "battle":
                r = battle.open_round(
                    conn,
                    self.rules,
                    host_id=user_id,
                    room_id=_need(room_id, "roomId"),
                    stake=stake,
                    now=now,
                    events=ev,
                    n=questions,
                    seconds=seconds,
                    category=category,
                    lobby_seconds=lobby_seconds,
                )
            elif game == "challenge":
                r = challenge.open_round(conn, self.rules, user_id=user_id, stake=stake, now=now, events=ev)
            elif game == "lottery":
                if not admin:
                    from ..errors import Forbidden

                    raise Forbidden("only an admin opens a lottery (the house runs one on schedule)", code="admin_only")
                r = lottery.open_round(
                    conn,
                    self.rules,
                    price=stake,
                    created_by=user_id,
                    draws_at=draws_at or now + timedelta(hours=1),
                    now=now,
                    events=ev,
                    split_bps=split_bps,
                )
            else:
                raise Invalid(f"game must be one of {', '.join(GAMES)}", field="game")
            return rounds.public(conn, r, self.rules.bank, now)

        return await self._write(work)

    async def join(
        self,
        user_id: str,
        round_id: str,
        *,
        key: str | None,
        client_seed: str | None = None,
        team: str | None = None,
        count: int = 1,
        ip: str | None = None,
    ) -> tuple[int, dict, bool]:
        """A stake: once per Idempotency-Key (a retry gets the first answer)."""
        self._limit(user_id)
        key = idempotency.check_key(key)
        body = {"roundId": round_id, "clientSeed": client_seed, "team": team, "count": count}
        req_hash = idempotency.body_hash("game:join", body)

        def work(conn, now, ev):
            return idempotency.once(
                conn,
                user_id,
                key,
                req_hash,
                iso(now),
                lambda: (
                    201,
                    engine.join(
                        conn,
                        self.rules,
                        round_id,
                        user_id,
                        now,
                        events=ev,
                        client_seed=client_seed,
                        team=team,
                        count=count,
                        ip=ip,
                    ),
                ),
            )

        return await self._write(work)

    async def answer(
        self,
        user_id: str,
        round_id: str,
        *,
        nonce: str | None,
        question: int | None = None,
        choice: int | None = None,
        value: int | None = None,
    ) -> dict[str, Any]:
        self._limit(user_id)

        def work(conn, now, ev):
            anticheat.use_nonce(conn, user_id, nonce, now)
            return engine.answer(
                conn, self.rules, round_id, user_id, now, question=question, choice=choice, value=value, events=ev
            )

        return await self._write(work)

    async def start_now(self, user_id: str, round_id: str) -> dict[str, Any]:
        self._limit(user_id)
        return await self._write(lambda conn, now, ev: engine.start_now(conn, round_id, user_id, now))

    async def refund(self, round_id: str, reason: str, actor: audit.Actor) -> dict[str, Any]:
        def work(conn, now, ev):
            back = rounds.refund(conn, round_id, now, reason, ev)
            audit.record(
                conn,
                actor,
                "games.refund",
                target_type="game_round",
                target_id=round_id,
                after={"refunded": back, "reason": reason},
                at=iso(now),
            )
            return {"roundId": round_id, "refunded": back}

        return await self._write(work)

    # -- tournaments ---------------------------------------------------------------------
    async def create_tournament(self, actor: audit.Actor, **kw: Any) -> dict[str, Any]:
        def work(conn, now, ev):
            t = tournaments.create(conn, self.rules, now=now, created_by=actor.user_id, events=ev, **kw)
            audit.record(
                conn,
                actor,
                "games.tournament_create",
                target_type="tournament",
                target_id=t["id"],
                after={k: str(v) for k, v in kw.items()},
                at=iso(now),
            )
            return tournaments.bracket(conn, t["id"])

        return await self._write(work)

    async def register_tournament(
        self, user_id: str, tid: str, *, key: str | None, client_seed: str | None = None
    ) -> tuple[int, dict, bool]:
        self._limit(user_id)
        key = idempotency.check_key(key)
        req_hash = idempotency.body_hash("tournament:register", {"tournamentId": tid, "clientSeed": client_seed})

        def work(conn, now, ev):
            def enter():
                if self.trust_gates is not None:  # trust_min_tournament_entry (403 naming the rule)
                    self.trust_gates.check(conn, user_id, "tournament_entry", now)
                return 201, tournaments.register(conn, self.rules, tid, user_id, now, client_seed=client_seed)

            return idempotency.once(conn, user_id, key, req_hash, iso(now), enter)

        return await self._write(work)

    async def answer_match(
        self, user_id: str, tid: str, match: int, *, nonce: str | None, value: int
    ) -> dict[str, Any]:
        self._limit(user_id)

        def work(conn, now, ev):
            anticheat.use_nonce(conn, user_id, nonce, now)
            return tournaments.answer(conn, self.rules, tid, match, user_id, value, now, ev)

        return await self._write(work)

    async def cancel_tournament(self, tid: str, reason: str, actor: audit.Actor) -> dict[str, Any]:
        def work(conn, now, ev):
            back = tournaments.cancel(conn, tournaments.get(conn, tid), now, reason, ev)
            audit.record(
                conn,
                actor,
                "games.tournament_cancel",
                target_type="tournament",
                target_id=tid,
                after={"refunded": back, "reason": reason},
                at=iso(now),
            )
            return {"tournamentId": tid, "refunded": back}

        return await self._write(work)

    # -- reads ---------------------------------------------------------------------------
    def catalog(self, conn: sqlite3.Connection, user: sqlite3.Row | None) -> list[dict[str, Any]]:
        pack = self.rules.packs.get(user["country"]) if user is not None else None
        out = []
        for g in GAMES:
            item = {
                "game": g,
                "description": DESCRIPTIONS[g],
                "chance": CHANCE[g],
                "aiWinRate": self.rules.ai_win_bps[g] / 10_000 if g in self.rules.ai_win_bps else None,
                "aiWinBand": [rates.BAND_LOW_BPS / 10_000, rates.BAND_HIGH_BPS / 10_000],
                "houseShare": self.rules.house_bps[g] / 10_000,
            }
            if pack is not None:
                item["allowed"], item["refusal"] = _allowed(conn, user, pack, CHANCE[g], self.clock.now())
            out.append(item)
        return out

    def report(self, conn: sqlite3.Connection, windows=("24h", "7d", "all")) -> list[dict[str, Any]]:
        return rates.report(conn, self.clock.now(), self.rules.ai_win_bps, windows)

    def update_metrics(self, conn: sqlite3.Connection) -> list[dict[str, Any]]:
        rows = self.report(conn, ("24h",))
        if self.metrics is not None and hasattr(self.metrics, "games_ai_win_wilson_low"):
            for row in rows:
                labels = (row["game"], f"{row['configuredP']:.4f}")
                low, high = row["wilson99"]
                self.metrics.games_ai_win_wilson_low.labels(*labels).set(low)
                self.metrics.games_ai_win_wilson_high.labels(*labels).set(high)
                self.metrics.games_ai_win_rounds.labels(*labels).set(row["rounds"])
                self.metrics.games_ai_win_out_of_band.labels(*labels).set(int(row["outOfBand"]))
        return rows

    # -- admin ---------------------------------------------------------------------------
    async def set_game_settings(
        self, game: str, actor: audit.Actor, *, ai_win_rate: float | None = None, house_share: float | None = None
    ) -> dict[str, Any]:
        if game not in GAMES:
            raise Invalid(f"game must be one of {', '.join(GAMES)}", field="game")
        p_bps = None
        if ai_win_rate is not None:
            if game not in rates.HOUSE_GAMES:
                raise Invalid(f"{game} is not played against the house; it has no AI win rate", field="aiWinRate")
            p_bps = rates.to_bps(ai_win_rate)
        house_bps = None
        if house_share is not None:
            if not 0 <= house_share <= 0.5:
                raise Invalid("houseShare must be between 0 and 0.5", field="houseShare")
            house_bps = round(house_share * 10_000)

        def work(conn, now, ev):
            before = conn.execute("SELECT ai_win_bps, house_bps FROM game_settings WHERE game = ?", (game,)).fetchone()
            conn.execute(
                "INSERT INTO game_settings(game, ai_win_bps, house_bps, updated_at, updated_by) "
                "VALUES (?,?,?,?,?) ON CONFLICT(game) DO UPDATE SET "
                "ai_win_bps = COALESCE(excluded.ai_win_bps, ai_win_bps), "
                "house_bps = COALESCE(excluded.house_bps, house_bps), updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (game, p_bps, house_bps, iso(now), actor.name),
            )
            after = conn.execute("SELECT ai_win_bps, house_bps FROM game_settings WHERE game = ?", (game,)).fetchone()
            audit.record(
                conn,
                actor,
                "games.settings",
                target_type="game",
                target_id=game,
                before=dict(before) if before else None,
                after=dict(after),
                at=iso(now),
            )
            return rules_from(self.settings, stored_overrides(conn), new_id=self.ids.new)

        # Applied once committed: a rolled-back change never reaches the running rules.
        self.rules = await self._write(work)
        return [g for g in self.catalog(self.db.inline.conn, None) if g["game"] == game][0]

    # -- jobs ----------------------------------------------------------------------------
    async def run_lottery_schedule(self) -> int:
        every = self.settings.games_lottery_every
        if not every:
            return 0
        r = await self._write(
            lambda conn, now, ev: lottery.ensure_open(
                conn, self.rules, price=self.settings.games_lottery_price, every_seconds=every, now=now, events=ev
            )
        )
        return int(r is not None)

    async def run_nonce_prune(self) -> int:
        cutoff = iso(self.clock.now() - timedelta(days=2))
        return await self.db.write(lambda conn: anticheat.prune_nonces(conn, cutoff))


def _need(value, field):
    if not value:
        raise Invalid(f"{field} is required for this game", field=field)
    return value


def _allowed(conn, user, pack, chance: bool, now: datetime) -> tuple[bool, str | None]:
    """Whether the caller may stake at all (amount 1), with the refusal's message, for the lobby."""
    from ..errors import Forbidden
    from . import compliance

    try:
        compliance.check_stake(conn, user, 1, chance=chance, pack=pack, today=now.date())
        return True, None
    except Forbidden as exc:
        return False, exc.message


def get_round(conn: sqlite3.Connection, round_id: str, bank: Bank, now: datetime) -> dict[str, Any]:
    return rounds.public(conn, rounds.get(conn, round_id), bank, now)


def list_rounds(
    conn: sqlite3.Connection,
    bank: Bank,
    now: datetime,
    *,
    game: str | None = None,
    status: str | None = None,
    room_id: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    sql, params = "SELECT * FROM game_rounds WHERE 1=1", []
    if game:
        sql += " AND game = ?"
        params.append(game)
    if status == "live":
        sql += " AND status IN ('open','running')"
    elif status:
        sql += " AND status = ?"
        params.append(status)
    if room_id:
        sql += " AND room_id = ?"
        params.append(room_id)
    sql += " ORDER BY created_at DESC LIMIT ?"
    params.append(limit)
    return [rounds.public(conn, r, bank, now) for r in conn.execute(sql, params).fetchall()]


__all__ = ["Games", "rules_from", "get_round", "list_rounds", "NotFound"]
