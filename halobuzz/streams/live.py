"""In-memory state of live streams: viewers, analytics counters, throne holder, trending score.

Checkpointed to SQLite every few seconds and at shutdown (streams/checkpoint.py) and rebuilt
from it at start (every live stream gets a fresh heartbeat grace period); stored into the
stream row when it ends. Nothing here is the source of truth for coins: `streams.total_coins`
is (the money core writes it in the gift transaction).

`viewers`, `peak` and `unique` count the same people: the audience, never the host.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

TRENDING_WINDOW = 300.0  # seconds of gift history that count as "per minute" activity


@dataclass
class LiveStats:
    stream_id: str
    host_id: str
    country: str
    started: float  # unix seconds
    heartbeat: float
    viewers: dict[str, int] = field(default_factory=dict)  # user id -> open connections in the room
    unique: set[str] = field(default_factory=set)
    peak: int = 0
    chat_count: int = 0
    likes: int = 0
    gifts: dict[str, dict[str, Any]] = field(default_factory=dict)  # giftId -> {name, count, coins}
    coins: int = 0  # coins seen through gift events since this process started
    gift_times: deque = field(default_factory=lambda: deque(maxlen=2000))  # (ts, coins)
    throne: dict[str, Any] | None = None
    dirty: bool = False  # changed since the last checkpoint
    unsaved: set[str] = field(default_factory=set)  # unique viewers not checkpointed yet

    @property
    def viewer_count(self) -> int:
        return len(self.viewers) - (1 if self.host_id in self.viewers else 0)

    def join(self, user_id: str) -> bool:
        """Returns True when this is the user's first connection in the room."""
        n = self.viewers.get(user_id, 0)
        self.viewers[user_id] = n + 1
        if user_id != self.host_id and user_id not in self.unique:
            self.unique.add(user_id)
            self.unsaved.add(user_id)
        if self.viewer_count > self.peak:
            self.peak = self.viewer_count
            self.dirty = True
        return n == 0

    def leave(self, user_id: str) -> bool:
        """Returns True when the user's last connection left."""
        n = self.viewers.get(user_id, 0)
        if n <= 1:
            self.viewers.pop(user_id, None)
            return n == 1
        self.viewers[user_id] = n - 1
        return False

    def gift(self, gift_id: str, name: str, quantity: int, coins: int, now: float) -> None:
        g = self.gifts.setdefault(str(gift_id), {"name": name, "count": 0, "coins": 0})
        g["count"] += quantity
        g["coins"] += coins
        self.coins += coins
        self.gift_times.append((now, coins))
        self.dirty = True

    def like(self, count: int) -> None:
        self.likes += count
        self.dirty = True

    def gifts_per_minute(self, now: float) -> float:
        recent = [c for t, c in self.gift_times if now - t <= TRENDING_WINDOW]
        return len(recent) / (TRENDING_WINDOW / 60.0)

    def trending_score(self, now: float) -> float:
        """Viewers, gift activity and recency, as the seed's `ranking:streams`.

        score = (viewers + 5 × gifts/min + coins/min / 10) × recency, where recency decays
        from 1.0 (just started) to 0.5 after two hours live; new streams get a +3 floor so
        a fresh stream with no viewers yet is still discoverable.
        """
        recent = [c for t, c in self.gift_times if now - t <= TRENDING_WINDOW]
        per_min = TRENDING_WINDOW / 60.0
        activity = self.viewer_count + 5.0 * len(recent) / per_min + sum(recent) / per_min / 10.0
        age_h = max(0.0, now - self.started) / 3600.0
        recency = 1.0 / (1.0 + age_h / 2.0)
        fresh = 3.0 if age_h < 0.25 else 0.0
        return round((activity + fresh) * recency, 4) if math.isfinite(activity) else 0.0

    def analytics(self) -> dict[str, Any]:
        return {
            "peakViewers": self.peak,
            "uniqueViewers": len(self.unique),
            "chatCount": self.chat_count,
            "likes": self.likes,
            "gifts": self.gifts,
        }

    def snapshot(self, now: float) -> dict[str, Any]:
        out = {"viewers": self.viewer_count, **self.analytics(), "giftsPerMinute": round(self.gifts_per_minute(now), 2)}
        if self.throne:
            out["throne"] = self.throne
        return out


class LiveStreams:
    def __init__(self) -> None:
        self.by_id: dict[str, LiveStats] = {}

    def add(self, stream_id: str, host_id: str, country: str, started: float, now: float) -> LiveStats:
        stats = self.by_id.get(stream_id)
        if stats is None:
            stats = self.by_id[stream_id] = LiveStats(stream_id, host_id, country, started, now)
        return stats

    def get(self, stream_id: str) -> LiveStats | None:
        return self.by_id.get(stream_id)

    def remove(self, stream_id: str) -> LiveStats | None:
        return self.by_id.pop(stream_id, None)

    def stale(self, now: float, timeout: float) -> list[str]:
        return [sid for sid, s in self.by_id.items() if now - s.heartbeat > timeout]

    def trending(self, now: float, country: str | None = None) -> list[tuple[str, float]]:
        items = [
            (sid, s.trending_score(now)) for sid, s in self.by_id.items() if country is None or s.country == country
        ]
        items.sort(key=lambda p: (-p[1], p[0]))
        return items
