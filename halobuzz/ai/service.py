"""The AI features as calls for routes and the scheduler: boredom job, cohost list and invite,
gift suggestions. Reads only (in-memory room counters and the inline reader); the invite goes
through the battle service, which does its own write."""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

from ..errors import Conflict, Forbidden, NotFound
from ..events import AI_SUGGESTION, Event
from ..infra.clock import iso
from . import cohosts, gifts
from .boredom import BoredomDetector

RECENT_NUDGES = 20
MAX_CANDIDATES = 200


class Insights:
    def __init__(
        self,
        db,
        clock,
        bus,
        streams,
        battles=None,
        spend=None,
        *,
        detector: BoredomDetector | None = None,
        cohost_cooldown: float = 3600.0,
    ) -> None:
        self.db, self.clock, self.bus, self.streams, self.battles = db, clock, bus, streams, battles
        self.spend = spend
        self.detector = detector or BoredomDetector()
        self.cohost_cooldown = cohost_cooldown
        self.nudges: dict[str, deque] = {}  # stream id -> recent nudges (newest last)
        self.nudges_sent = 0

    # -- boredom -----------------------------------------------------------------------------
    async def run_boredom(self) -> int:
        t = self.clock.timestamp()
        sent = 0
        live = self.streams.live.by_id
        for sid, stats in list(live.items()):
            gifts_count = sum(int(g.get("count", 0)) for g in stats.gifts.values())
            self.detector.observe(
                sid, stats.host_id, t, stats.chat_count, stats.likes, gifts_count, list(stats.viewers)
            )
            nudge = self.detector.evaluate(sid, t)
            if nudge is None:
                continue
            nudge["ts"] = iso(self.clock.now())
            self.nudges.setdefault(sid, deque(maxlen=RECENT_NUDGES)).append(nudge)
            # Private: addressed to the host's connections only, never to the room.
            self.bus.publish(Event(AI_SUGGESTION, nudge, users=(stats.host_id,)))
            sent += 1
        self.detector.forget(set(live))
        for sid in [s for s in self.nudges if s not in live]:
            del self.nudges[sid]
        self.nudges_sent += sent
        return sent

    def engagement_score(self, stream_id: str) -> float | None:
        return self.detector.score_of(stream_id)

    def host_view(self, user_id: str, stream_id: str) -> dict[str, Any]:
        stats = self._own_live(user_id, stream_id)
        track = self.detector.rooms.get(stream_id)
        e = track.last if track else None
        return {
            "streamId": stream_id,
            "engagementScore": e.score if e else None,
            "signals": e.parts if e else None,
            "rates": e.rates if e else None,
            "viewers": stats.viewer_count,
            "nudges": list(reversed(self.nudges.get(stream_id, ()))),
        }

    def _own_live(self, user_id: str, stream_id: str):
        stats = self.streams.live.get(stream_id)
        if stats is None:
            row = self.db.inline.one("SELECT host_id FROM streams WHERE id = ?", (stream_id,))
            if row is None:
                raise NotFound("no such stream", field="streamId")
            raise Conflict("the stream is not live", code="not_live", field="streamId")
        if stats.host_id != user_id:
            raise Forbidden("only the host sees this", code="not_host")
        return stats

    # -- cohosts -----------------------------------------------------------------------------
    def _room(self, conn, sid: str, stats) -> cohosts.Room | None:
        row = conn.execute(
            "SELECT s.title, s.category, s.country, u.username FROM streams s JOIN users u "
            "ON u.id = s.host_id WHERE s.id = ?",
            (sid,),
        ).fetchone()
        if row is None:
            return None
        chat = [
            r[0]
            for r in conn.execute(
                "SELECT text FROM chat_messages WHERE stream_id = ? ORDER BY created_at DESC LIMIT 30", (sid,)
            )
        ]
        return cohosts.Room(
            sid,
            stats.host_id,
            row["username"],
            row["title"],
            row["country"],
            row["category"],
            cohosts.language_of([row["title"], *chat], row["country"]),
            frozenset(v for v in stats.viewers if v != stats.host_id),
        )

    def cohost_candidates(self, user_id: str, stream_id: str, limit: int = 10) -> dict[str, Any]:
        mine = self._own_live(user_id, stream_id)
        conn = self.db.inline.conn
        me = self._room(conn, stream_id, mine)
        since = iso(self.clock.now() - timedelta(seconds=self.cohost_cooldown))
        excluded = set()
        for r in conn.execute(cohosts.DECLINED_SQL, (since, user_id)):
            excluded.add(r[1] if r[0] == user_id else r[0])
        busy = set(self.battles.by_stream) if self.battles is not None else set()
        pool = sorted(
            ((sid, s) for sid, s in self.streams.live.by_id.items() if sid != stream_id and sid not in busy),
            key=lambda p: -p[1].viewer_count,
        )[:MAX_CANDIDATES]
        others = [r for r in (self._room(conn, sid, s) for sid, s in pool) if r is not None]
        return {
            "streamId": stream_id,
            "language": me.language if me else None,
            "items": cohosts.rank(me, others, excluded, limit) if me else [],
            "cooldownSeconds": int(self.cohost_cooldown),
            "excludedAfterDecline": len(excluded),
        }

    async def invite_cohost(
        self, user_id: str, stream_id: str, candidate_stream_id: str, duration: int
    ) -> dict[str, Any]:
        if self.battles is None:
            raise NotFound("battles are not available")
        listed = {c["streamId"] for c in self.cohost_candidates(user_id, stream_id, MAX_CANDIDATES)["items"]}
        if candidate_stream_id not in listed:
            raise Conflict(
                "that host is not a cohost candidate now (not live, busy, or declined recently)",
                code="not_a_candidate",
                field="candidateStreamId",
            )
        out = await self.battles.invite(user_id, stream_id, candidate_stream_id, duration)
        return {**out, "kind": "cohost"}

    # -- gifts -------------------------------------------------------------------------------
    def gift_suggestions(self, user_id: str, stream_id: str, limit: int = 3) -> dict[str, Any]:
        row = self.db.inline.one("SELECT host_id, status FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            raise NotFound("no such stream", field="streamId")
        if row["host_id"] == user_id or row["status"] != "live":
            return {"streamId": stream_id, "items": [], "reason": "gifts go to a live stream that is not yours"}
        return gifts.suggest(self.db.inline.conn, user_id, stream_id, self.clock.now(), self.spend, limit)
