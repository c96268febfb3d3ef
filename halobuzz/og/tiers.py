"""The OG tier table. Prices and durations come from config; the bonus formula is the seed's:
dailyBonus = floor(priceCoins * 0.6 / duration)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import Invalid

DEFAULT = {1: (3_000, 30), 2: (9_000, 30), 3: (30_000, 30), 4: (90_000, 30), 5: (300_000, 30)}
PRIVILEGES = {
    1: ("badge",),
    2: ("badge", "long_messages"),
    3: ("badge", "long_messages", "slow_mode_bypass"),
    4: ("badge", "long_messages", "slow_mode_bypass", "colored_name"),
    5: ("badge", "long_messages", "slow_mode_bypass", "colored_name", "entrance_effect"),
}
CHAT_LIMIT_DEFAULT = 200
CHAT_LIMIT_LONG = 500


@dataclass(frozen=True)
class Tier:
    tier: int
    price_coins: int
    duration_days: int

    @property
    def daily_bonus(self) -> int:
        return self.price_coins * 6 // (10 * self.duration_days)

    @property
    def privileges(self) -> tuple[str, ...]:
        return PRIVILEGES[self.tier]

    def to_json(self, exclusive_gifts: list[str]) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "priceCoins": self.price_coins,
            "duration": self.duration_days,
            "benefits": {
                "dailyBonus": self.daily_bonus,
                "exclusiveGifts": exclusive_gifts,
                "chatPrivileges": list(self.privileges),
            },
        }


def load(overrides: Mapping[str, str] | None = None) -> dict[int, Tier]:
    """Tiers from defaults, with config overrides like {"1": "5000:30"}."""
    table = dict(DEFAULT)
    for key, text in (overrides or {}).items():
        try:
            tier = int(key)
            price, days = (int(x) for x in str(text).split(":"))
        except ValueError:
            raise ValueError(f"og_tiers.{key}: expected 'price:days', got {text!r}") from None
        if tier not in table or price <= 0 or not 1 <= days <= 365:
            raise ValueError(f"og_tiers.{key}: tier 1-5, price > 0, days 1-365")
        table[tier] = (price, days)
    prices = [table[t][0] for t in sorted(table)]
    if prices != sorted(prices):
        raise ValueError("og_tiers: a higher tier must not cost less than a lower one")
    return {t: Tier(t, p, d) for t, (p, d) in table.items()}


def get(tiers: dict[int, Tier], tier: int) -> Tier:
    if tier not in tiers:
        raise Invalid("tier must be 1-5", field="tier")
    return tiers[tier]


def has(privilege: str, og_level: int) -> bool:
    return og_level > 0 and privilege in PRIVILEGES.get(og_level, ())
