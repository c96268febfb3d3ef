"""The in-process event bus and every event name in one place.

Domain code records events inside its write unit (`db.emit(conn, event)`); the writer
hands them to `Bus.publish_all` after COMMIT, and `realtime/` subscribes and fans out
to rooms. Only derived, unpersisted updates (battle scores, metrics) are published
directly. Subscribers are plain callables; one failing subscriber is
logged and never stops the others or the publisher.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("halobuzz.events")

# The seed's canonical realtime events, plus a few of our own.
STREAM_JOIN = "stream:join"
STREAM_LEAVE = "stream:leave"
CHAT_NEW = "chat:new"
GIFT_SENT = "gift:sent"
THRONE_CLAIMED = "throne:claimed"
BATTLE_BOOST = "battle:boost"
AI_WARNING = "ai:warning"
OG_CHANGED = "og:changed"
METRICS_UPDATE = "metrics:update"
CANONICAL = (
    STREAM_JOIN,
    STREAM_LEAVE,
    CHAT_NEW,
    GIFT_SENT,
    THRONE_CLAIMED,
    BATTLE_BOOST,
    AI_WARNING,
    OG_CHANGED,
    METRICS_UPDATE,
)
# The client protocol's own events (/ws and Socket.IO).
ERROR = "error"
AUTH = "auth"
READY = "ready"  # reply to a successful auth (also to a re-auth frame)
STREAM_STATE = "stream:state"  # reply to stream:join: stream, recent chat, pinned, throne, battle
STREAM_ENDED = "stream:ended"
STREAM_STARTED = "stream:started"
CHAT_DELETED = "chat:deleted"
CHAT_PINNED = "chat:pinned"
ROOM_SETTINGS = "room:settings"  # slow mode, chat on/off
ROOM_SANCTION = "room:sanction"  # to the target: muted / kicked / banned
DM_NEW = "dm:new"
DM_READ = "dm:read"
BATTLE_INVITE = "battle:invite"
BATTLE_START = "battle:start"
BATTLE_SCORE = "battle:score"
BATTLE_END = "battle:end"
PONG = "pong"
FESTIVAL_ACTIVE = "festival:active"  # to every connected client when a festival starts or ends
AI_SUGGESTION = "ai:suggestion"  # a private nudge to a host (boredom detection)
# Internal (not sent to clients as-is).
USER_CHANGED = "user:changed"
WALLET_CHANGED = "wallet:changed"
# Games (halobuzz/games): sent to the round's room, or to the players of a room-less round.
GAME_ROUND = "game:round"  # a round opened / started (phase), with its seed commitment
GAME_JOINED = "game:joined"  # a player entered (or joined a team)
GAME_QUESTION = "game:question"  # a timed question opened (quiz, battle)
GAME_RESULT = "game:result"  # settled: winners, payouts, house share, revealed seed
GAME_DRAW = "game:draw"  # a lottery drawn: winning tickets, payouts, revealed seed
GAME_REFUNDED = "game:refunded"  # refunded: every stake back, revealed seed
GAME_EVENTS = (GAME_ROUND, GAME_JOINED, GAME_QUESTION, GAME_RESULT, GAME_DRAW, GAME_REFUNDED)
# Tournaments (halobuzz/games/tournaments.py): sent to the tournament's players.
TOURNAMENT_CREATED = "tournament:created"
TOURNAMENT_STARTED = "tournament:started"  # bracket drawn: seeds, byes
TOURNAMENT_MATCH = "tournament:match"  # a match is ready: its puzzle and deadline
TOURNAMENT_RESULT = "tournament:result"  # a match decided (answer, wrong answer, no-show, bye)
TOURNAMENT_FINISHED = "tournament:finished"  # places and prizes paid, or cancelled and refunded
TOURNAMENT_EVENTS = (TOURNAMENT_CREATED, TOURNAMENT_STARTED, TOURNAMENT_MATCH, TOURNAMENT_RESULT, TOURNAMENT_FINISHED)


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]
    room: str | None = None  # stream id the event belongs to, if any
    users: tuple[str, ...] = field(default=())  # users it is addressed to, if any


Handler = Callable[[Event], Any]


class Bus:
    def __init__(self, metrics: Any = None) -> None:
        self._subs: dict[str, list[Handler]] = defaultdict(list)
        self._all: list[Handler] = []
        self.metrics = metrics

    def subscribe(self, name: str | None, handler: Handler) -> Callable[[], None]:
        target = self._all if name is None else self._subs[name]
        target.append(handler)
        return lambda: target.remove(handler)

    def publish_all(self, events: list[Event]) -> None:
        """A committed write unit's events, in the order it emitted them."""
        for event in events:
            self.publish(event)

    def publish(self, event: Event) -> None:
        if self.metrics:
            self.metrics.events_published.labels(event.name).inc()
        for handler in (*self._subs.get(event.name, ()), *self._all):
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed", extra={"event": event.name})
