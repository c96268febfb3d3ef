"""Coin packs: what can be bought, per gateway and currency.

Baseline NPR 10 = 500 coins (50 coins per rupee) for eSewa and Khalti; Stripe sells
USD packs at a project-set price. An OG pack buys a tier directly: the order credits
exactly the tier's price in coins and spends them on the tier in the same transaction.
`payment_packs` (JSON list) replaces the coin packs; OG packs follow the tier table.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..og.tiers import Tier

GATEWAYS = ("esewa", "khalti", "stripe")
NPR_COINS_PER_RUPEE = 50  # NPR 10 = 500 coins
USD_COINS_PER_DOLLAR = 6000  # project price list; USD cannot mirror NPR 1:1 (Stripe minimum $0.50)
USD_MIN_CENTS = 50


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    gateways: tuple[str, ...]
    currency: str
    amount_minor: int
    coins: int
    og_tier: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "gateways": list(self.gateways),
            "currency": self.currency,
            "amount": self.amount_minor,
            "amountDisplay": display(self.amount_minor, self.currency),
            "coins": self.coins,
            "ogTier": self.og_tier,
        }


def display(amount_minor: int, currency: str) -> str:
    return f"{currency} {amount_minor // 100}.{amount_minor % 100:02d}"


def _npr(rupees: int, coins: int | None = None) -> Pack:
    coins = coins or rupees * NPR_COINS_PER_RUPEE
    return Pack(f"npr-{rupees}", f"{coins} coins", ("esewa", "khalti"), "NPR", rupees * 100, coins)


DEFAULT_COIN_PACKS: tuple[Pack, ...] = (
    _npr(10),
    _npr(50),
    _npr(100),
    _npr(500),
    _npr(1000),
    Pack("usd-1", "6000 coins", ("stripe",), "USD", 100, 6_000),
    Pack("usd-5", "30000 coins", ("stripe",), "USD", 500, 30_000),
    Pack("usd-20", "125000 coins", ("stripe",), "USD", 2_000, 125_000),
)


def og_packs(tiers: Mapping[int, Tier]) -> list[Pack]:
    out = []
    for t in sorted(tiers.values(), key=lambda t: t.tier):
        rupees = math.ceil(t.price_coins / NPR_COINS_PER_RUPEE)
        out.append(
            Pack(
                f"og{t.tier}-npr",
                f"OG {t.tier} ({t.duration_days} days)",
                ("esewa", "khalti"),
                "NPR",
                rupees * 100,
                t.price_coins,
                t.tier,
            )
        )
        cents = max(USD_MIN_CENTS, math.ceil(t.price_coins * 100 / USD_COINS_PER_DOLLAR))
        out.append(
            Pack(
                f"og{t.tier}-usd",
                f"OG {t.tier} ({t.duration_days} days)",
                ("stripe",),
                "USD",
                cents,
                t.price_coins,
                t.tier,
            )
        )
    return out


def parse(text: str) -> tuple[Pack, ...]:
    """The `payment_packs` setting: [{"id", "name", "gateways", "currency", "amountMinor", "coins"}]."""
    try:
        items = json.loads(text)
        packs = tuple(
            Pack(
                str(i["id"]),
                str(i.get("name") or f"{i['coins']} coins"),
                tuple(str(g) for g in i["gateways"]),
                str(i["currency"]).upper(),
                int(i["amountMinor"]),
                int(i["coins"]),
            )
            for i in items
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"payment_packs: not a valid pack list ({exc})") from None
    return packs


def validate(packs: tuple[Pack, ...] | list[Pack]) -> None:
    seen = set()
    for p in packs:
        where = f"payment pack {p.id!r}"
        if p.id in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(p.id)
        if p.amount_minor <= 0 or p.coins <= 0:
            raise ValueError(f"{where}: amount and coins must be positive")
        for g in p.gateways:
            if g not in GATEWAYS:
                raise ValueError(f"{where}: unknown gateway {g!r}")
            if g in ("esewa", "khalti") and p.currency != "NPR":
                raise ValueError(f"{where}: {g} sells NPR only")
            if g == "esewa" and p.amount_minor % 100:
                raise ValueError(f"{where}: eSewa packs must be whole rupees")
            if g == "khalti" and p.amount_minor < 1000:
                raise ValueError(f"{where}: Khalti's minimum is 1000 paisa (NPR 10)")
            if g == "stripe" and p.currency == "USD" and p.amount_minor < USD_MIN_CENTS:
                raise ValueError(f"{where}: Stripe's USD minimum is 50 cents")


def load(setting: str, tiers: Mapping[int, Tier]) -> dict[str, Pack]:
    coin_packs = parse(setting) if setting.strip() else DEFAULT_COIN_PACKS
    packs = [*coin_packs, *og_packs(tiers)]
    validate(packs)
    return {p.id: p for p in packs}
