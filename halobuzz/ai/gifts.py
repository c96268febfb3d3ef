"""Gift recommendations for one viewer in one stream.

Candidates are the gifts available now (festival-themed ones included while their festival
runs) that the viewer may send (OG tier) and can afford within both their coins and what is
left of today's spend cap. Each gets a score:

    price band   30  closeness of the price to the viewer's typical gift (median of the last 50),
                     or to 10 coins for someone who never gifted
    past gifts   25  share of the viewer's past gifts that were this gift
    festival     25  the gift is themed for a festival running now
    OG           20  an OG-exclusive gift the viewer's tier unlocks (a perk they pay for)

Never any suggestion for an account under 18 (by birth date or a moderator's judgement).
"""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
from datetime import datetime
from typing import Any

from ..accounts.users import ADULT_AGE, age_on
from ..gifts import catalog
from ..infra.clock import iso, parse_iso
from ..wallet import ledger, wallet

WEIGHTS = {"price": 30, "history": 25, "festival": 25, "og": 20}
DEFAULT_BAND = 10


def is_minor(user: sqlite3.Row, now: datetime) -> bool:
    from datetime import date

    young = age_on(date.fromisoformat(user["birth_date"]), now.date()) < ADULT_AGE
    return young or bool("judged_minor" in user.keys() and user["judged_minor"])


def suggest(
    conn: sqlite3.Connection, user_id: str, stream_id: str, now: datetime, spend: wallet.SpendPolicy, limit: int = 3
) -> dict[str, Any]:
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None or is_minor(user, now):
        return {"streamId": stream_id, "items": [], "reason": "no suggestions for accounts under 18"}
    paid, bonus = ledger.balances_of(conn, user_id)
    cap = wallet.daily_limit(user, now.date(), spend)
    left_today = cap - wallet.spent_today(conn, user_id, now.date().isoformat()) if cap else None
    budget = max(0, paid) + max(0, bonus)
    if left_today is not None:
        budget = min(budget, max(0, left_today))
    og_live = user["og_level"] if (parse_iso(user["og_expires_at"]) or now) > now else 0
    history = [
        json.loads(r[0] or "{}").get("gift")
        for r in conn.execute(
            "SELECT t.memo FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id WHERE e.account_id IN (?, ?) "
            "AND t.kind = 'gift' AND e.amount < 0 ORDER BY e.id DESC LIMIT 50",
            (f"{user_id}:paid", f"{user_id}:bonus"),
        )
    ]
    history = [h for h in history if h]
    themed = set()
    for r in conn.execute(
        "SELECT gift_ids FROM festivals WHERE cancelled = 0 AND starts_at <= ?1 AND ends_at > ?1", (iso(now),)
    ):
        themed |= set(json.loads(r[0]))
    prices = {r["id"]: r["price"] for r in conn.execute("SELECT id, price FROM gifts")}
    past_prices = [prices[h] for h in history if h in prices]
    band = statistics.median(past_prices) if past_prices else DEFAULT_BAND
    items = []
    for g in conn.execute("SELECT * FROM gifts").fetchall():
        if not catalog.available_now(g, now) or g["og_min_level"] > og_live or g["price"] > budget:
            continue
        parts = {
            "price": max(0.0, 1.0 - abs(math.log10(g["price"] / max(1, band))) / 2.0),
            "history": history.count(g["id"]) / len(history) if history else 0.0,
            "festival": float(g["id"] in themed),
            "og": float(g["og_min_level"] > 0),
        }
        reasons = []
        if parts["festival"]:
            reasons.append("festival gift")
        if parts["history"] >= 0.2:
            reasons.append("one you often send")
        if parts["price"] >= 0.8:
            reasons.append("in your usual price range")
        if parts["og"]:
            reasons.append(f"OG {g['og_min_level']} exclusive")
        items.append(
            {
                "giftId": g["id"],
                "name": g["name"],
                "price": g["price"],
                "art": "/assets/" + g["art"],
                "score": round(sum(parts[k] * w for k, w in WEIGHTS.items()), 1),
                "maxQuantity": budget // g["price"],
                "reasons": reasons,
            }
        )
    items.sort(key=lambda i: (-i["score"], i["price"], i["giftId"]))
    return {
        "streamId": stream_id,
        "items": items[:limit],
        "budget": budget,
        "remainingToday": left_today,
        "priceBand": band,
    }
