"""Boredom detection: an engagement score per live stream from in-memory room counters.

Every `interval` seconds the detector samples each live stream's counters (chat messages,
likes, gifts, the set of viewers). Over the last `window` seconds it computes five signals,
each scaled to 0..1, and the engagement score (0..100):

    chat       chat messages/min  / max(2, 0.3 x viewers)         weight 35
    gifts      gifts/min          / 1                             weight 20
    likes      likes/min          / max(5, viewers)               weight 15
    retention  1 - 5 x (viewers who left per min / viewers)       weight 15
    watch      average minutes the current viewers have stayed / 10   weight 15

A stream is *bored* when its score is below `threshold`, or has fallen to less than half of
its own best score of the last 10 minutes. Its host (only) then gets one private
`ai:suggestion` naming the weakest signal and what to try (a quiz when chat is quiet, a PK
battle when gifts stopped, a cohost when viewers leave), at most once per `cooldown`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

WEIGHTS = {"chat": 35, "gifts": 20, "likes": 15, "retention": 15, "watch": 15}
BEST_WINDOW = 600.0


@dataclass(frozen=True)
class Sample:
    t: float
    chat: int
    likes: int
    gifts: int
    viewers: frozenset


@dataclass(frozen=True)
class Engagement:
    score: float
    parts: dict[str, float]
    rates: dict[str, float]

    def weakest(self) -> str:
        return min(self.parts, key=lambda k: (self.parts[k] * WEIGHTS[k] - WEIGHTS[k], k))


def engagement(samples: list[Sample], first_seen: dict[str, float]) -> Engagement | None:
    """The score over `samples` (oldest first; at least two, spanning > 0 s)."""
    if len(samples) < 2 or samples[-1].t <= samples[0].t:
        return None
    a, b = samples[0], samples[-1]
    minutes = (b.t - a.t) / 60.0
    viewers = max(1, len(b.viewers))
    left = set()
    for prev, cur in zip(samples, samples[1:]):
        left |= prev.viewers - cur.viewers
    rates = {
        "chatPerMin": (b.chat - a.chat) / minutes,
        "likesPerMin": (b.likes - a.likes) / minutes,
        "giftsPerMin": (b.gifts - a.gifts) / minutes,
        "leftPerMin": len(left) / minutes,
        "viewers": float(len(b.viewers)),
        "watchMinutes": (sum(b.t - first_seen.get(v, b.t) for v in b.viewers) / viewers / 60.0) if b.viewers else 0.0,
    }
    parts = {
        "chat": min(1.0, rates["chatPerMin"] / max(2.0, 0.3 * viewers)),
        "gifts": min(1.0, rates["giftsPerMin"] / 1.0),
        "likes": min(1.0, rates["likesPerMin"] / max(5.0, float(viewers))),
        "retention": max(0.0, 1.0 - 5.0 * rates["leftPerMin"] / viewers),
        "watch": min(1.0, rates["watchMinutes"] / 10.0),
    }
    score = sum(parts[k] * w for k, w in WEIGHTS.items())
    return Engagement(
        round(score, 1), {k: round(v, 3) for k, v in parts.items()}, {k: round(v, 2) for k, v in rates.items()}
    )


SUGGESTIONS = {
    "chat": ("quiz", "Chat has gone quiet: ask your viewers a quick quiz question"),
    "likes": ("quiz", "Few likes: ask viewers to tap like if they agree, or run a quick poll"),
    "gifts": ("battle", "Gifts stopped: start a PK battle with another host"),
    "retention": ("cohost", "Viewers are leaving: invite a cohost to bring new energy"),
    "watch": ("cohost", "Viewers don't stay long: invite a cohost or change the topic"),
}


def reason_for(e: Engagement) -> tuple[str, str, str]:
    """(weakest signal, suggested action, human reason with the numbers)."""
    weak = e.weakest()
    action, text = SUGGESTIONS[weak]
    r = e.rates
    numbers = {
        "chat": f"{r['chatPerMin']:.1f} chat messages/min",
        "likes": f"{r['likesPerMin']:.1f} likes/min",
        "gifts": f"{r['giftsPerMin']:.1f} gifts/min",
        "retention": f"{r['leftPerMin']:.1f} viewers left per minute of {int(r['viewers'])}",
        "watch": f"viewers stay {r['watchMinutes']:.1f} min on average",
    }[weak]
    return weak, action, f"{text} ({numbers}; engagement {e.score:.0f}/100)"


@dataclass
class RoomTrack:
    host_id: str
    samples: deque = field(default_factory=deque)
    first_seen: dict[str, float] = field(default_factory=dict)
    history: deque = field(default_factory=deque)  # (t, score)
    last: Engagement | None = None
    nudged_at: float = float("-inf")


class BoredomDetector:
    def __init__(
        self, *, window: float = 180.0, threshold: float = 30.0, cooldown: float = 300.0, min_viewers: int = 1
    ) -> None:
        self.window, self.threshold, self.cooldown, self.min_viewers = window, threshold, cooldown, min_viewers
        self.rooms: dict[str, RoomTrack] = {}

    def observe(
        self, stream_id: str, host_id: str, t: float, chat: int, likes: int, gifts: int, viewers: Iterable[str]
    ) -> None:
        track = self.rooms.get(stream_id)
        if track is None:
            track = self.rooms[stream_id] = RoomTrack(host_id)
        present = frozenset(v for v in viewers if v != host_id)
        for v in present:
            track.first_seen.setdefault(v, t)
        for v in list(track.first_seen):
            if v not in present:
                del track.first_seen[v]
        track.samples.append(Sample(t, chat, likes, gifts, present))
        while len(track.samples) > 2 and track.samples[1].t <= t - self.window:
            track.samples.popleft()

    def forget(self, live_ids: set[str]) -> None:
        for sid in [s for s in self.rooms if s not in live_ids]:
            del self.rooms[sid]

    def evaluate(self, stream_id: str, t: float) -> dict[str, Any] | None:
        """Update the room's score; return a nudge for its host when it is bored (or None)."""
        track = self.rooms.get(stream_id)
        if track is None:
            return None
        e = engagement(list(track.samples), track.first_seen)
        track.last = e
        if e is None:
            return None
        track.history.append((t, e.score))
        while track.history and track.history[0][0] < t - BEST_WINDOW:
            track.history.popleft()
        warmed = track.samples[-1].t - track.samples[0].t >= self.window * 0.9
        if not warmed or len(track.samples[-1].viewers) < self.min_viewers or t - track.nudged_at < self.cooldown:
            return None
        best = max(s for _, s in track.history)
        dropped = best > 0 and e.score < 0.5 * best
        if e.score >= self.threshold and not dropped:
            return None
        track.nudged_at = t
        weak, action, reason = reason_for(e)
        if dropped and e.score >= self.threshold:
            reason += f" — down from {best:.0f} in the last 10 minutes"
        return {
            "streamId": stream_id,
            "kind": "boredom",
            "action": action,
            "signal": weak,
            "reason": reason,
            "engagementScore": e.score,
            "signals": e.parts,
            "rates": e.rates,
        }

    def score_of(self, stream_id: str) -> float | None:
        track = self.rooms.get(stream_id)
        return track.last.score if track is not None and track.last is not None else None
