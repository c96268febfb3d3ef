"""The published AI win probability p, its 35–55 % band, and monitoring it with Wilson intervals.

p is stored in basis points (4500 = 45 %) so the band check is exact. A game against the
house decides the AI's win only through the fair draw at p (fairness.happens), never per
player or per round; the report compares what happened with p: the observed AI win rate of
every settled round decided by the draw, with its 99 % Wilson score interval. An interval
entirely outside the band means the outcomes no longer follow a p the rules allow.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

from ..errors import Invalid

BAND_LOW_BPS, BAND_HIGH_BPS = 3500, 5500
RULE = "the AI win probability must be between 35 % and 55 % (0.35–0.55)"
HOUSE_GAMES = ("challenge", "battle")
Z99 = NormalDist().inv_cdf(0.995)


class OutOfBand(Invalid):
    code = "ai_win_rate_out_of_band"


def to_bps(p: float | int | str, field: str = "aiWinRate") -> int:
    """0.45 -> 4500, refusing anything outside the band with the rule in the message."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise Invalid(f"{field} must be a number like 0.45; {RULE}", field=field) from None
    if not math.isfinite(value):
        raise OutOfBand(f"{field} {p!r} refused: {RULE}", field=field)
    bps = round(value * 10_000)
    if not BAND_LOW_BPS <= bps <= BAND_HIGH_BPS or abs(bps - value * 10_000) > 1e-6:
        raise OutOfBand(f"{field} {value:g} refused: {RULE}", field=field)
    return bps


def wilson(successes: int, n: int, z: float = Z99) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Row:
    game: str
    window: str
    p: float
    rounds: int
    ai_wins: int

    def as_json(self) -> dict[str, Any]:
        low, high = wilson(self.ai_wins, self.rounds)
        observed = self.ai_wins / self.rounds if self.rounds else None
        band = (BAND_LOW_BPS / 10_000, BAND_HIGH_BPS / 10_000)
        return {
            "game": self.game,
            "window": self.window,
            "configuredP": self.p,
            "rounds": self.rounds,
            "aiWins": self.ai_wins,
            "observed": observed,
            "wilson99": [low, high],
            "containsP": low <= self.p <= high if self.rounds else None,
            # Out of band: the whole 99 % interval lies outside 35–55 %.
            "outOfBand": bool(self.rounds) and (high < band[0] or low > band[1]),
        }


WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "all": None}


def report(
    conn: sqlite3.Connection, now: datetime, current: dict[str, int], windows: tuple[str, ...] = ("24h", "7d", "all")
) -> list[dict[str, Any]]:
    """Per game, window and p the rounds were played at: configured p vs the observed AI win
    rate of settled rounds the draw decided. A game with no rounds yet still shows its
    current p (with an empty interval) so the page lists every house game."""
    from ..infra.clock import iso

    out = []
    for game in HOUSE_GAMES:
        for w in windows:
            since = iso(now - WINDOWS[w]) if WINDOWS[w] else ""
            rows = conn.execute(
                "SELECT ai_win_bps, COUNT(*), COALESCE(SUM(ai_won), 0) FROM game_rounds "
                "WHERE game = ? AND ai_won IS NOT NULL AND settled_at >= ? GROUP BY ai_win_bps "
                "ORDER BY ai_win_bps",
                (game, since),
            ).fetchall()
            if not rows and game in current:
                rows = [(current[game], 0, 0)]
            out += [Row(game, w, bps / 10_000, n, wins).as_json() for bps, n, wins in rows]
    return out
