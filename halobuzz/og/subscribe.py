"""Buying an OG tier with coins.

Rules (tested in tests/unit/money/test_og.py and test_properties.py):
* New: the tier starts now for `duration` days.
* Renewal (same tier while active): a new period is queued to start when the
  current one ends, at full price; at most 365 days may be bought ahead.
* Upgrade (higher tier while active): the higher tier starts now for its full
  duration and every period in force or queued ends now. The credit is what
  those periods were worth and was not used: floor(value x unused seconds /
  period seconds) for each started one, the full value for each queued one.
  A period's value is its tier's list price when bought (not what was charged
  after a credit), so chained upgrades cost what the top tier costs. Credit
  above the new price goes back to paid coins (ledger kind og_credit).
* Downgrade while a higher tier is active: refused (409); buy it after expiry.
* Paid with paid coins only: bonus coins cannot buy OG (the bonus is 60 % of the
  price, so bonus-bought tiers would mint coins from nothing).

users.og_level is the tier in force; users.og_expires_at is when that level next
changes: the end of the contiguous run of periods of that tier, or earlier when
a queued higher tier starts. The expiry job (bonus.expire_tiers) acts then, and
also raises users at level 0 whose queued period has started.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict
from ..events import OG_CHANGED, Event
from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger, wallet
from .tiers import Tier

MAX_AHEAD = timedelta(days=365)


@dataclass
class Subscribed:
    response: dict[str, Any]
    events: list[Event]


def current(conn: sqlite3.Connection, user_id: str, now: datetime) -> sqlite3.Row | None:
    """The period in force right now, if any."""
    return conn.execute(
        "SELECT * FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL AND starts_at <= ? "
        "AND expires_at > ? ORDER BY tier DESC LIMIT 1",
        (user_id, iso(now), iso(now)),
    ).fetchone()


def subscribe(
    conn: sqlite3.Connection,
    *,
    user_id: str,
    tier: Tier,
    key: str,
    sub_id: str,
    now: datetime,
    spend: wallet.SpendPolicy,
) -> Subscribed:
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    active = current(conn, user_id, now)
    price, starts, credit, kind = tier.price_coins, now, 0, "new"
    if active and active["tier"] > tier.tier:
        raise Conflict(
            f"OG {active['tier']} is active until {active['expires_at']}; a lower tier can be bought after it ends",
            code="og_downgrade",
            field="tier",
        )
    if active and active["tier"] == tier.tier:
        kind = "renewal"
        last_end = conn.execute(
            "SELECT MAX(expires_at) FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL", (user_id,)
        ).fetchone()[0]
        starts = parse_iso(last_end)
        if starts + timedelta(days=tier.duration_days) - now > MAX_AHEAD:
            raise Conflict("at most 365 days of OG can be bought ahead", code="og_too_far_ahead", field="tier")
    elif active:
        kind = "upgrade"
        ending = conn.execute(
            "SELECT * FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?",
            (user_id, iso(now)),
        ).fetchall()
        credit = sum(unused_value(s, now) for s in ending)
        price = max(0, tier.price_coins - credit)
    returned = max(0, credit - tier.price_coins)
    tx_id = None
    if price:
        debit = wallet.plan_spend(conn, user, price, now, spend, allow_bonus=False)
        posted = ledger.post(
            conn,
            f"og:{user_id}:{key}",
            "og_purchase",
            [(A.user_account(user_id, A.PAID), -debit.paid), (A.OG_SALES, debit.paid)],
            iso(now),
            {"tier": tier.tier, "kind": kind, "credit": credit, "subscription": sub_id},
        )
        wallet.record_spend(conn, user_id, price, now.date().isoformat())
        tx_id = posted.tx_id
    if returned:
        # The periods ended were worth more than the new tier: the rest goes back where it came from.
        ledger.post(
            conn,
            f"og-credit:{user_id}:{key}",
            "og_credit",
            [(A.OG_SALES, -returned), (A.user_account(user_id, A.PAID), returned)],
            iso(now),
            {"tier": tier.tier, "kind": kind, "credit": credit, "returned": returned, "subscription": sub_id},
        )
    if kind == "upgrade":
        # End the current period and anything queued after it; their unused value was credited.
        conn.execute(
            "UPDATE og_subscriptions SET ended_at = ?, end_reason = 'upgraded' WHERE user_id = ? "
            "AND ended_at IS NULL AND expires_at > ?",
            (iso(now), user_id, iso(now)),
        )
    expires = starts + timedelta(days=tier.duration_days)
    conn.execute(
        "INSERT INTO og_subscriptions(id, user_id, tier, price, value, daily_bonus, starts_at, expires_at, "
        "tx_id) VALUES (?,?,?,?,?,?,?,?,?)",
        (sub_id, user_id, tier.tier, price, tier.price_coins, tier.daily_bonus, iso(starts), iso(expires), tx_id),
    )
    level, until = refresh_user_level(conn, user_id, now)
    response = {
        "subscriptionId": sub_id,
        "tier": tier.tier,
        "kind": kind,
        "pricePaid": price,
        "credit": credit,
        "creditReturned": returned,
        "startsAt": iso(starts),
        "expiresAt": iso(expires),
        "ogLevel": level,
        "ogExpiresAt": until,
    }
    events = [
        Event(OG_CHANGED, {"userId": user_id, "ogLevel": level, "ogExpiresAt": until, "reason": kind}, users=(user_id,))
    ]
    return Subscribed(response, events)


def unused_value(period: sqlite3.Row, now: datetime) -> int:
    """What an upgrade at `now` credits for a period it ends: its list value (the price charged
    for periods bought before the value column existed) pro rata of the unused time if it
    has started, all of it if it is still queued."""
    value = period["value"] if period["value"] is not None else period["price"]
    starts, expires = parse_iso(period["starts_at"]), parse_iso(period["expires_at"])
    if starts >= now:
        return value
    whole = _ms(expires - starts)
    return value * max(0, _ms(expires - now)) // whole if whole > 0 else 0


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def level_until(conn: sqlite3.Connection, user_id: str, active: sqlite3.Row, now: datetime) -> str:
    """When the level set by `active` next changes: where the contiguous run of unended periods of
    its tier stops, or where a queued higher tier starts, whichever is first."""
    rows = conn.execute(
        "SELECT starts_at, expires_at FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL "
        "AND tier = ? AND expires_at > ? ORDER BY starts_at",
        (user_id, active["tier"], iso(now)),
    )
    until = active["expires_at"]
    for r in rows:
        if r["starts_at"] <= until and r["expires_at"] > until:
            until = r["expires_at"]
    higher = conn.execute(
        "SELECT MIN(starts_at) FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL "
        "AND tier > ? AND starts_at > ?",
        (user_id, active["tier"], iso(now)),
    ).fetchone()[0]
    return min(until, higher) if higher else until


def refresh_user_level(conn: sqlite3.Connection, user_id: str, now: datetime) -> tuple[int, str | None]:
    """Set users.og_level/og_expires_at from the subscriptions: the tier in force now, and
    when that level next changes (see the module docstring)."""
    active = current(conn, user_id, now)
    if active is None:
        conn.execute(
            "UPDATE users SET og_level = 0, og_expires_at = NULL, updated_at = ? WHERE id = ?", (iso(now), user_id)
        )
        return 0, None
    until = level_until(conn, user_id, active, now)
    conn.execute(
        "UPDATE users SET og_level = ?, og_expires_at = ?, updated_at = ? WHERE id = ?",
        (active["tier"], until, iso(now), user_id),
    )
    return active["tier"], until


def revoke(conn: sqlite3.Connection, sub_id: str, now: datetime, reason: str) -> list[Event]:
    """End a period early (e.g. its coins were clawed back by a refund)."""
    row = conn.execute("SELECT user_id FROM og_subscriptions WHERE id = ? AND ended_at IS NULL", (sub_id,)).fetchone()
    if row is None:
        return []
    conn.execute("UPDATE og_subscriptions SET ended_at = ?, end_reason = ? WHERE id = ?", (iso(now), reason, sub_id))
    level, until = refresh_user_level(conn, row["user_id"], now)
    return [
        Event(
            OG_CHANGED,
            {"userId": row["user_id"], "ogLevel": level, "ogExpiresAt": until, "reason": reason},
            users=(row["user_id"],),
        )
    ]
