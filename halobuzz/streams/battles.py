"""PK battles: two live hosts agree to a timed battle; score = coins received during it.

invite (host A, A's live stream, B's live stream, duration) → accept by host B (or decline;
or cancel by host A; or expiry `invite_ttl` seconds after the invite, by the injected clock:
a timer fires then, and every invite/accept/cancel also checks the clock) → active
for `duration` seconds → finished, with the winner recorded (NULL on a draw). The last
`boost_seconds` of a battle (at most a third of it) are a boost window: coins count
×2, announced to both rooms as `battle:boost`. Scores come from `gift:sent` events on
the bus (published by the money core after its commit); every change is announced as
`battle:score`. The result row is written when the battle ends; on restart, active
battles resume their timers (or finish at once if their end has passed).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..db import emit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import BATTLE_BOOST, BATTLE_END, BATTLE_INVITE, BATTLE_SCORE, BATTLE_START, GIFT_SENT, STREAM_ENDED, Event
from ..infra.clock import iso, parse_iso

BOOST_MULTIPLIER = 2
INVITE_TTL = 120  # seconds an invitation stays open
MAX_SECONDS = 3600


@dataclass
class Battle:
    id: str
    stream_a: str
    stream_b: str
    host_a: str
    host_b: str
    duration: int
    status: str
    created: float
    started: float | None = None
    ends: float | None = None
    score_a: int = 0
    score_b: int = 0
    boost_from: float | None = None
    boosts: list[dict[str, Any]] = field(default_factory=list)
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def multiplier(self, now: float) -> int:
        return BOOST_MULTIPLIER if self.boost_from is not None and now >= self.boost_from else 1

    def as_json(self) -> dict[str, Any]:
        def ts(x):
            return iso(datetime.fromtimestamp(x, timezone.utc)) if x else None

        return {
            "id": self.id,
            "status": self.status,
            "durationSeconds": self.duration,
            "streams": [self.stream_a, self.stream_b],
            "hosts": [self.host_a, self.host_b],
            "scores": {self.stream_a: self.score_a, self.stream_b: self.score_b},
            "startedAt": ts(self.started),
            "endsAt": ts(self.ends),
            "boostFrom": ts(self.boost_from),
            "boosts": self.boosts,
        }


def _row_to_battle(r: sqlite3.Row) -> Battle:
    def t(x):
        d = parse_iso(x)
        return d.timestamp() if d else None

    b = Battle(
        r["id"],
        r["stream_a"],
        r["stream_b"],
        r["host_a"],
        r["host_b"],
        r["duration_seconds"],
        r["status"],
        t(r["created_at"]) or 0.0,
        t(r["started_at"]),
        t(r["ends_at"]),
        r["score_a"],
        r["score_b"],
    )
    b.boosts = json.loads(r["boosts_json"] or "[]")
    return b


class Battles:
    def __init__(
        self,
        db,
        clock,
        ids,
        bus,
        streams,
        *,
        min_seconds: int = 30,
        boost_seconds: int = 30,
        invite_ttl: float = INVITE_TTL,
    ) -> None:
        self.invite_ttl = invite_ttl
        self.db = db
        self.clock = clock
        self.ids = ids
        self.bus = bus
        self.streams = streams
        self.min_seconds = min_seconds
        self.boost_seconds = boost_seconds
        self.by_id: dict[str, Battle] = {}
        self.by_stream: dict[str, str] = {}
        self._tasks: set[asyncio.Task] = set()
        bus.subscribe(GIFT_SENT, self._on_gift)
        bus.subscribe(STREAM_ENDED, self._on_stream_ended)

    # -- lifecycle ------------------------------------------------------------------------
    async def load(self) -> None:
        for r in await self.db.readers.fetchall("SELECT * FROM battles WHERE status IN ('invited','active')"):
            b = _row_to_battle(r)
            self.by_id[b.id] = b
            self.by_stream[b.stream_a] = self.by_stream[b.stream_b] = b.id
            if b.status == "active":
                self._schedule(b)
            else:
                self._schedule_expiry(b)

    async def stop(self) -> None:
        for b in self.by_id.values():
            for h in b.timers:
                h.cancel()
        for t in list(self._tasks):
            t.cancel()

    def get(self, battle_id: str) -> dict[str, Any]:
        b = self.by_id.get(battle_id)
        if b is not None:
            return b.as_json()
        r = self.db.inline.one("SELECT * FROM battles WHERE id = ?", (battle_id,))
        if r is None:
            raise NotFound("no such battle", field="battleId")
        out = _row_to_battle(r).as_json()
        out["winnerHostId"] = r["winner_host_id"]
        return out

    def active_for(self, stream_id: str) -> dict[str, Any] | None:
        bid = self.by_stream.get(stream_id)
        b = self.by_id.get(bid) if bid else None
        return b.as_json() if b is not None and b.status == "active" else None

    async def invite(self, host_id: str, stream_id: str, opponent_stream_id: str, duration: int) -> dict[str, Any]:
        if not self.min_seconds <= duration <= MAX_SECONDS:
            raise Invalid(
                f"durationSeconds must be between {self.min_seconds} and {MAX_SECONDS}", field="durationSeconds"
            )
        if stream_id == opponent_stream_id:
            raise Invalid("a stream cannot battle itself", field="opponentStreamId")
        mine = self.streams.live.get(stream_id)
        theirs = self.streams.live.get(opponent_stream_id)
        if mine is None:
            raise Conflict("your stream is not live", code="not_live", field="streamId")
        if mine.host_id != host_id:
            raise Forbidden("only the host can start a battle from this stream", code="not_host")
        if theirs is None:
            raise Conflict("the other stream is not live", code="not_live", field="opponentStreamId")
        for sid in (stream_id, opponent_stream_id):
            bid = self.by_stream.get(sid)
            if bid is not None and self.by_id[bid].status == "invited" and self._expired(self.by_id[bid]):
                await self._expire(self.by_id[bid])
            if sid in self.by_stream:
                raise Conflict("one of the streams is already in a battle", code="already_in_battle")
        bid, now = self.ids.new(), self.clock.now()
        b = Battle(bid, stream_id, opponent_stream_id, host_id, theirs.host_id, duration, "invited", now.timestamp())

        def unit(conn):
            conn.execute(
                "INSERT INTO battles(id, stream_a, stream_b, host_a, host_b, status, duration_seconds, "
                "created_at) VALUES (?,?,?,?,?, 'invited', ?, ?)",
                (bid, stream_id, opponent_stream_id, host_id, theirs.host_id, duration, iso(now)),
            )
            emit(conn, Event(BATTLE_INVITE, {**b.as_json(), "expiresAt": self._expires_at(b)}, users=(theirs.host_id,)))

        def track(_):
            self.by_id[bid] = b
            self.by_stream[stream_id] = self.by_stream[opponent_stream_id] = bid
            self._schedule_expiry(b)

        await self.db.write(unit, after=track)
        return {**b.as_json(), "expiresAt": self._expires_at(b)}

    def _mine(self, battle_id: str, host_id: str, *, inviter: bool = False) -> Battle:
        b = self.by_id.get(battle_id)
        if b is None:
            raise NotFound("no such open battle", field="battleId")
        if inviter and host_id != b.host_a:
            raise Forbidden("only the inviting host can cancel", code="not_inviting_host")
        if not inviter and host_id != b.host_b:
            raise Forbidden("only the invited host can answer", code="not_invited_host")
        if b.status != "invited":
            raise Conflict(f"the battle is {b.status}", code="bad_state")
        return b

    async def cancel(self, host_id: str, battle_id: str) -> dict[str, Any]:
        """The inviter withdraws an open invitation; both streams are free again."""
        b = self._mine(battle_id, host_id, inviter=True)
        if self._expired(b):
            await self._expire(b)
            raise Conflict("the invitation already expired", code="expired")
        await self._close(b, "cancelled", tell=(b.host_a, b.host_b), reason="cancelled")
        return b.as_json()

    # -- invitation expiry ----------------------------------------------------------------
    def _expired(self, b: Battle) -> bool:
        return self.clock.timestamp() - b.created >= self.invite_ttl

    def _expires_at(self, b: Battle) -> str | None:
        return iso(datetime.fromtimestamp(b.created + self.invite_ttl, timezone.utc))

    def _schedule_expiry(self, b: Battle) -> None:
        left = max(0.0, b.created + self.invite_ttl - self.clock.timestamp())
        b.timers.append(asyncio.get_running_loop().call_later(left, self._spawn_expire, b.id))

    def _spawn_expire(self, battle_id: str) -> None:
        t = asyncio.get_running_loop().create_task(self.expire_due())
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def expire_due(self) -> list[str]:
        """Expire every open invitation whose TTL has passed (by the injected clock)."""
        due = [b for b in list(self.by_id.values()) if b.status == "invited" and self._expired(b)]
        for b in due:
            await self._expire(b)
        return [b.id for b in due]

    async def _expire(self, b: Battle) -> None:
        if b.status != "invited":
            return
        await self._close(b, "cancelled", tell=(b.host_a, b.host_b), reason="expired")

    async def accept(self, host_id: str, battle_id: str) -> dict[str, Any]:
        b = self._mine(battle_id, host_id)
        now = self.clock.now()
        if self._expired(b):
            await self._expire(b)
            raise Conflict("the invitation expired", code="expired")
        if self.streams.live.get(b.stream_a) is None or self.streams.live.get(b.stream_b) is None:
            await self._close(b, "cancelled")
            raise Conflict("one of the streams is no longer live", code="not_live")
        b.started = now.timestamp()
        b.ends = b.started + b.duration
        ends = now + timedelta(seconds=b.duration)

        def unit(conn):
            conn.execute(
                "UPDATE battles SET status='active', started_at=?, ends_at=? WHERE id=?", (iso(now), iso(ends), b.id)
            )
            self._emit_both(conn, b, BATTLE_START, {**b.as_json(), "status": "active"})

        def activate(_):
            b.status = "active"
            for h in b.timers:  # the invitation's expiry timer
                h.cancel()
            b.timers.clear()
            self._schedule(b)

        await self.db.write(unit, after=activate)
        return b.as_json()

    async def decline(self, host_id: str, battle_id: str) -> dict[str, Any]:
        b = self._mine(battle_id, host_id)
        await self._close(b, "declined", tell=(b.host_a,))
        return b.as_json()

    async def _close(self, b: Battle, status: str, tell: tuple[str, ...] = (), reason: str | None = None) -> None:
        b.status = status  # at once: an expiry timer or a second call meanwhile finds it closed
        extra = {"reason": reason} if reason else {}

        def unit(conn):
            conn.execute("UPDATE battles SET status=? WHERE id=?", (status, b.id))
            if tell:
                emit(
                    conn,
                    Event(BATTLE_END, {**b.as_json(), "status": status, "winnerHostId": None, **extra}, users=tell),
                )

        await self.db.write(unit, after=lambda _: self._forget(b))

    def _forget(self, b: Battle) -> None:
        for h in b.timers:
            h.cancel()
        self.by_id.pop(b.id, None)
        for sid in (b.stream_a, b.stream_b):
            if self.by_stream.get(sid) == b.id:
                del self.by_stream[sid]

    # -- timers ---------------------------------------------------------------------------
    def _schedule(self, b: Battle) -> None:
        loop = asyncio.get_running_loop()
        now = self.clock.timestamp()
        window = min(self.boost_seconds, max(1, b.duration // 3))
        b.boost_from = (b.ends or now) - window
        b.timers.append(loop.call_later(max(0.0, b.boost_from - now), self._boost, b.id, window))
        b.timers.append(loop.call_later(max(0.0, (b.ends or now) - now), self._spawn_finish, b.id))

    def _boost(self, battle_id: str, window: int) -> None:
        b = self.by_id.get(battle_id)
        if b is None or b.status != "active":
            return
        boost = {
            "battleId": b.id,
            "multiplier": BOOST_MULTIPLIER,
            "seconds": window,
            "endsAt": b.as_json()["endsAt"],
            "reason": "final_seconds",
        }
        b.boosts.append(boost)
        self._announce(b, BATTLE_BOOST, boost)

    def _spawn_finish(self, battle_id: str) -> None:
        t = asyncio.get_running_loop().create_task(self.finish(battle_id))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def finish(self, battle_id: str) -> dict[str, Any] | None:
        b = self.by_id.get(battle_id)
        if b is None or b.status != "active":
            return None
        b.status = "finished"  # gifts from now on no longer count
        winner = b.host_a if b.score_a > b.score_b else b.host_b if b.score_b > b.score_a else None
        now = self.clock.now()

        result = {
            **b.as_json(),
            "winnerHostId": winner,
            "winnerStreamId": b.stream_a if winner == b.host_a else b.stream_b if winner else None,
        }

        def unit(conn):
            conn.execute(
                "UPDATE battles SET status='finished', finished_at=?, score_a=?, score_b=?, winner_host_id=?, "
                "boosts_json=? WHERE id=?",
                (iso(now), b.score_a, b.score_b, winner, json.dumps(b.boosts), b.id),
            )
            self._emit_both(conn, b, BATTLE_END, result)

        try:
            await self.db.write(unit)
        finally:
            self._forget(b)
        return result

    # -- bus ------------------------------------------------------------------------------
    @staticmethod
    def _emit_both(conn, b: Battle, name: str, data: dict[str, Any]) -> None:
        """Inside a write unit: the event goes to both rooms after COMMIT."""
        for sid in (b.stream_a, b.stream_b):
            emit(conn, Event(name, data, room=sid))

    def _announce(self, b: Battle, name: str, data: dict[str, Any]) -> None:
        """Derived, unpersisted updates (scores, boosts) go straight to the bus."""
        for sid in (b.stream_a, b.stream_b):
            self.bus.publish(Event(name, data, room=sid))

    def _on_gift(self, event: Event) -> None:
        sid = event.room or event.data.get("streamId")
        bid = self.by_stream.get(sid) if sid else None
        b = self.by_id.get(bid) if bid else None
        if b is None or b.status != "active":
            return
        now = self.clock.timestamp()
        if b.started is None or not (b.started <= now < (b.ends or 0)):
            return
        points = int(event.data.get("coins", 0) or 0) * b.multiplier(now)
        if sid == b.stream_a:
            b.score_a += points
        else:
            b.score_b += points
        self._announce(
            b,
            BATTLE_SCORE,
            {
                "battleId": b.id,
                "scores": {b.stream_a: b.score_a, b.stream_b: b.score_b},
                "streamId": sid,
                "points": points,
                "multiplier": b.multiplier(now),
            },
        )

    def _on_stream_ended(self, event: Event) -> None:
        bid = self.by_stream.get(event.room or "")
        b = self.by_id.get(bid) if bid else None
        if b is None:
            return
        if b.status == "active":
            self._spawn_finish(b.id)
        else:
            b.status = "cancelled"
            self._forget(b)
            t = asyncio.get_running_loop().create_task(
                self.db.write(lambda conn: conn.execute("UPDATE battles SET status='cancelled' WHERE id=?", (b.id,)))
            )
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
