"""The trust score as a pure function of a user's signals, explained line by line.

score = 50 (everyone starts in the middle)
      + account age          +1 per 30 days, at most +10
      + verified payments    +3 per completed coin purchase, at most +12
      + streaming hours      +1 per 5 hours live, at most +10
      + gifts received       +1 per 1,000 coins earned, at most +8
      + reports upheld       +3 per report of yours a moderator confirmed, at most +9
      + reports dismissed    -2 per report of yours a moderator dismissed, at most -10
      + confirmed actions    the moderation deltas (warn -2, blur/delete -5, ban -10) as recorded
      + automated blocks     -1 per message the classifier blocked in the last 90 days, at most -15
                             (lighter than a confirmed action: nobody has looked at it yet)
      + refunds              -5 per refunded purchase
      + chargebacks          -15 per payment dispute or reversal
clamped to 0..100. Levels: low < 40 <= medium < 70 <= high; `verified` only by an admin
verification, and only while the score is at least medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASE = 50
MEDIUM, HIGH = 40, 70


@dataclass(frozen=True)
class Signals:
    account_days: int = 0
    payments: int = 0
    streaming_seconds: int = 0
    coins_earned: int = 0
    reports_upheld: int = 0
    reports_dismissed: int = 0
    confirmed_delta: int = 0  # sum of moderation's confirmed-action deltas (negative, or reversed)
    automated_blocks: int = 0
    refunds: int = 0
    chargebacks: int = 0
    verified: bool = False


@dataclass(frozen=True)
class Contribution:
    kind: str
    points: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Score:
    score: int
    level: str
    contributions: tuple[Contribution, ...] = field(default=())

    def top(self, n: int = 5) -> list[dict[str, Any]]:
        ranked = sorted((c for c in self.contributions if c.points), key=lambda c: (-abs(c.points), c.kind))
        return [c.as_json() for c in ranked[:n]]


def level_of(score: int, verified: bool) -> str:
    if verified and score >= MEDIUM:
        return "verified"
    if score >= HIGH:
        return "high"
    return "medium" if score >= MEDIUM else "low"


def score(s: Signals) -> Score:
    hours = s.streaming_seconds // 3600
    parts = (
        Contribution("account_age", min(10, max(0, s.account_days) // 30), f"account {s.account_days} days old"),
        Contribution("verified_payments", min(12, 3 * s.payments), f"{s.payments} verified coin purchases"),
        Contribution("streaming_hours", min(10, hours // 5), f"{hours} hours streamed"),
        Contribution("gifts_received", min(8, max(0, s.coins_earned) // 1000), f"{s.coins_earned} coins earned"),
        Contribution("reports_upheld", min(9, 3 * s.reports_upheld), f"{s.reports_upheld} reports upheld"),
        Contribution(
            "reports_dismissed", max(-10, -2 * s.reports_dismissed), f"{s.reports_dismissed} reports dismissed"
        ),
        Contribution("confirmed_moderation", s.confirmed_delta, "moderator-confirmed actions against you"),
        Contribution(
            "automated_blocks",
            max(-15, -s.automated_blocks),
            f"{s.automated_blocks} messages blocked automatically (90 days)",
        ),
        Contribution("refunds", -5 * s.refunds, f"{s.refunds} refunded purchases"),
        Contribution("chargebacks", -15 * s.chargebacks, f"{s.chargebacks} chargebacks"),
    )
    total = max(0, min(100, BASE + sum(c.points for c in parts)))
    return Score(total, level_of(total, s.verified), parts)
