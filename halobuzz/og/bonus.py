"""The OG jobs, written as idempotent functions of the database.

Daily bonus: each subscription period pays `daily_bonus` bonus coins for each of
its `duration` UTC dates (starting on its start date) that has begun, while the
period was in force at that date's start (or it is the start date). The ledger
key og-bonus:<user>:<date> makes it once per user per day whatever runs when:
a missed run catches up, a repeated run pays nothing, a restart never pays twice.
Periods are visited highest tier first, so an upgrade day pays the higher tier.

Expiry: users whose tier ran out get og_level 0 and an og:changed event.
"""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

from ..events import Event
from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger
from .subscribe import refresh_user_level

# Periods that started longer ago than this are finished with paying (the longest period is 365 days).
_LOOKBACK = timedelta(days=400)


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def owed_dates(starts: datetime, duration_days: int, effective_end: datetime, today: date) -> list[date]:
    first = starts.date()
    out = []
    for k in range(duration_days):
        d = first + timedelta(days=k)
        if d > today:
            break
        if d != first and _day_start(d) >= effective_end:
            break
        out.append(d)
    return out


def pay_daily_bonuses(conn: sqlite3.Connection, now: datetime, limit: int = 5000) -> list[tuple[str, str, int]]:
    paid: list[tuple[str, str, int]] = []
    subs = conn.execute(
        "SELECT * FROM og_subscriptions WHERE starts_at > ? AND starts_at <= ? AND daily_bonus > 0 "
        "ORDER BY tier DESC, starts_at", (iso(now - _LOOKBACK), iso(now))).fetchall()
    for s in subs:
        starts = parse_iso(s["starts_at"])
        end = min(parse_iso(s["expires_at"]), parse_iso(s["ended_at"]) or parse_iso(s["expires_at"]))
        days = round((parse_iso(s["expires_at"]) - starts).total_seconds() / 86400)
        for d in owed_dates(starts, days, end, now.date()):
            key = f"og-bonus:{s['user_id']}:{d.isoformat()}"
            if ledger.tx_exists(conn, key):
                continue
            ledger.post(conn, key, "og_bonus", [(A.user_account(s["user_id"], A.BONUS), s["daily_bonus"]),
                                                (A.BONUS_ISSUER, -s["daily_bonus"])], iso(now),
                        {"tier": s["tier"], "date": d.isoformat(), "subscription": s["id"]})
            paid.append((s["user_id"], d.isoformat(), s["daily_bonus"]))
            if len(paid) >= limit:
                return paid
    return paid


def expire_tiers(conn: sqlite3.Connection, now: datetime) -> list[Event]:
    """Bring users.og_level in line with the subscriptions (ends expired tiers; starts queued ones)."""
    from ..events import OG_CHANGED
    events = []
    stale = conn.execute("SELECT id, og_level FROM users WHERE og_level > 0 AND (og_expires_at IS NULL OR og_expires_at <= ?)",
                         (iso(now),)).fetchall()
    for u in stale:
        level, until = refresh_user_level(conn, u["id"], now)
        if level != u["og_level"]:
            events.append(Event(OG_CHANGED, {"userId": u["id"], "ogLevel": level, "ogExpiresAt": until,
                                             "reason": "expired"}, users=(u["id"],)))
    return events
