"""Business metrics the seed's monitoring asks for, computed at scrape time (no per-event cost
beyond a dict write): active users over 5 min / 1 h / 1 day, live streams and viewers, gifts and
coins per minute, engagement by stream, festival uplift. Registered on the app's Metrics registry.

Parts are passed in (duck-typed) so this module imports no domain package.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

WINDOWS = {"5m": 300, "1h": 3600, "1d": 86400}
MAX_ENGAGEMENT_SERIES = 50  # label cardinality bound: the 50 busiest live streams


class Activity:
    """Last-seen time per user (authenticated requests, websocket users, gift senders)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.last: dict[str, float] = {}

    def seen(self, user_id: str, t: float | None = None) -> None:
        self.last[user_id] = t if t is not None else self.clock()

    def counts(self, now: float | None = None) -> dict[str, int]:
        now = now if now is not None else self.clock()
        day = now - WINDOWS["1d"]
        for uid in [u for u, t in self.last.items() if t < day]:
            del self.last[uid]
        stamps = list(self.last.values())
        return {w: sum(1 for t in stamps if t >= now - s) for w, s in WINDOWS.items()}


class GiftFlow:
    """Gifts and coins: totals since start and the last minute's rate, from gift:sent events."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.gifts = 0
        self.coins = 0
        self.recent: deque = deque()  # (t, coins)

    def add(self, coins: int, t: float | None = None) -> None:
        t = t if t is not None else self.clock()
        self.gifts += 1
        self.coins += coins
        self.recent.append((t, coins))
        self._trim(t)

    def _trim(self, now: float) -> None:
        while self.recent and self.recent[0][0] < now - 60:
            self.recent.popleft()

    def per_minute(self, now: float | None = None) -> tuple[int, int]:
        self._trim(now if now is not None else self.clock())
        return len(self.recent), sum(c for _, c in self.recent)


class BusinessCollector:
    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        s = self.snapshot()
        active = GaugeMetricFamily("halobuzz_active_users", "Distinct users seen within the window", labels=["window"])
        for window, n in s["active"].items():
            active.add_metric([window], n)
        yield active
        yield GaugeMetricFamily("halobuzz_live_streams", "Streams live now", value=s["liveStreams"])
        yield GaugeMetricFamily("halobuzz_live_viewers", "Viewers in live rooms now", value=s["viewers"])
        yield GaugeMetricFamily("halobuzz_gifts_per_minute", "Gifts sent in the last minute", value=s["giftsPerMinute"])
        yield GaugeMetricFamily(
            "halobuzz_gift_coins_per_minute", "Coins gifted in the last minute", value=s["coinsPerMinute"]
        )
        yield CounterMetricFamily("halobuzz_gifts_total", "Gifts sent since start", value=s["giftsTotal"])
        yield CounterMetricFamily("halobuzz_gift_coins_total", "Coins gifted since start", value=s["coinsTotal"])
        eng = GaugeMetricFamily(
            "halobuzz_stream_engagement_score", "Engagement score 0-100 of a live stream", labels=["stream"]
        )
        for sid, score in s["engagement"][:MAX_ENGAGEMENT_SERIES]:
            eng.add_metric([sid], score)
        yield eng
        yield GaugeMetricFamily(
            "halobuzz_ai_nudges_sent", "Boredom nudges sent to hosts since start", value=s.get("nudges", 0)
        )
        fest = GaugeMetricFamily("halobuzz_festival_active", "1 for each festival running now", labels=["festival"])
        upl = GaugeMetricFamily(
            "halobuzz_festival_uplift_ratio",
            "Gift coins per hour during the festival / per hour in the 7 days before",
            labels=["festival"],
        )
        for f in s["festivals"]:
            fest.add_metric([f["festivalId"]], 1)
            if f.get("uplift") is not None:
                upl.add_metric([f["festivalId"]], f["uplift"])
        yield fest
        yield upl
        yield CounterMetricFamily(
            "halobuzz_festival_bonus_coins_total",
            "Festival bonus coins paid since start",
            value=s.get("festivalBonusCoins", 0),
        )
