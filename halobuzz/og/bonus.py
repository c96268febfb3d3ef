"""The OG jobs, written as idempotent functions of the database.

Daily bonus: each subscription period owes `daily_bonus` bonus coins for each of
its first `duration` UTC dates (starting on its start date) on which it was in
force at some instant, once that date has begun. A period ended (upgrade,
revocation) at or before its start owes nothing. The ledger key
og-bonus:<user>:<date> makes it once per user per day whatever runs when: a
missed run catches up, a repeated run pays nothing, a restart never pays twice.
Periods are visited highest tier first, so an upgrade day pays the higher tier.

Each period remembers the last date it was settled for (bonus_paid_through), so
only periods with a new owed date are due. The job lists the due periods on a
reader (due_query: a scan of the lookback window, kept out of the writer) and
settles them in short write units (pay_batch with ids: point reads, at most
`limit` periods and about MAX_POSTS ledger posts each); pay_batch without ids
selects the due periods itself.

Expiry: users whose level ran out (users.og_expires_at, see subscribe.py) get the
tier now in force, or 0, and an og:changed event; so do users at level 0 whose
queued period has started. Listed the same way (level_query), bounded per unit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..events import OG_CHANGED, Event
from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger
from .subscribe import refresh_user_level

# Periods that started longer ago than this are finished with paying (the longest period is 365 days).
_LOOKBACK = timedelta(days=400)
BATCH = 100  # periods (bonus) or users (levels) per write unit


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def owed_dates(
    starts: datetime, duration_days: int, effective_end: datetime, today: date, after: date | None = None
) -> list[date]:
    """The dates a period owes a bonus for, up to `today` and after `after` (already settled)."""
    if effective_end <= starts:
        return []
    first = starts.date()
    out = []
    for k in range(duration_days):
        d = first + timedelta(days=k)
        if d > today or _day_start(d) >= effective_end:
            break
        if after is None or d > after:
            out.append(d)
    return out


# The last date a period owes, in SQL (it must agree with owed_dates): its `duration`-th date, or the
# date of the last millisecond it was in force; never past today. Timestamps are ISO with milliseconds.
_LAST_OWED = "MIN(date(expires_at, '-1 day'), date(COALESCE(ended_at, expires_at), '-0.001 seconds'), :today)"
# Periods with a date owed and not yet settled: started (within the lookback), in force for a
# moment at least, settled (bonus_paid_through) short of their last owed date.
_DUE = (
    "starts_at > :since AND starts_at <= :now AND daily_bonus > 0 AND COALESCE(ended_at, expires_at) > starts_at "
    f"AND (bonus_paid_through IS NULL OR bonus_paid_through < {_LAST_OWED})"
)
_ORDER = "ORDER BY tier DESC, starts_at, id"  # highest tier first: an upgrade day pays the higher tier
_COLUMNS = (
    f"id, user_id, tier, daily_bonus, starts_at, expires_at, ended_at, bonus_paid_through, {_LAST_OWED} AS last_owed"
)
MAX_POSTS = 200  # ledger posts per write unit; a unit stops taking periods after this many (catch-up)


def _params(now: datetime) -> dict[str, Any]:
    return {"since": iso(now - _LOOKBACK), "now": iso(now), "today": now.date().isoformat()}


def due_query(now: datetime) -> tuple[str, dict[str, Any]]:
    """(sql, params) listing the ids of the periods with a bonus to settle, in paying order. A scan
    over the lookback window: the job runs it on a reader, then settles the ids in short write units."""
    return f"SELECT id FROM og_subscriptions WHERE {_DUE} {_ORDER}", _params(now)


@dataclass
class BonusBatch:
    paid: list[tuple[str, str, int]] = field(default_factory=list)
    periods: int = 0  # periods settled by this call
    consumed: int = 0  # how many of the given ids were dealt with (settled, or no longer due)
    more: bool = False  # there may be more to do: call again


def pay_batch(
    conn: sqlite3.Connection,
    now: datetime,
    limit: int = BATCH,
    ids: list[str] | None = None,
    max_posts: int = MAX_POSTS,
) -> BonusBatch:
    """Settle the daily bonus of at most `limit` due periods (or of the due ones among `ids`, taken in
    order), stopping early once `max_posts` bonuses were posted. Each settled period pays its new owed
    dates (the ledger key makes a date once per user) and records bonus_paid_through."""
    out = BonusBatch()
    params = _params(now)
    if ids is None:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM og_subscriptions WHERE {_DUE} {_ORDER} LIMIT :limit", {**params, "limit": limit}
        ).fetchall()
        todo = list(rows)
    else:  # point reads by primary key; a period settled meanwhile is simply skipped
        one = f"SELECT {_COLUMNS} FROM og_subscriptions WHERE id = :id AND {_DUE}"
        todo = [conn.execute(one, {**params, "id": i}).fetchone() for i in ids[:limit]]
    posts = 0
    for s in todo:
        if posts >= max_posts:
            out.more = True
            break
        out.consumed += 1
        if s is None:
            continue
        posts += _settle(conn, s, now, out.paid)
        out.periods += 1
    if ids is None:
        out.more = out.more or len(todo) >= limit
    else:
        out.more = out.more or out.consumed < len(ids)
    return out


def _settle(conn: sqlite3.Connection, s: sqlite3.Row, now: datetime, paid: list[tuple[str, str, int]]) -> int:
    starts, expires = parse_iso(s["starts_at"]), parse_iso(s["expires_at"])
    end = min(expires, parse_iso(s["ended_at"]) or expires)
    days = round((expires - starts).total_seconds() / 86400)
    after = date.fromisoformat(s["bonus_paid_through"]) if s["bonus_paid_through"] else None
    posts = 0
    for d in owed_dates(starts, days, end, date.fromisoformat(s["last_owed"]), after):
        key = f"og-bonus:{s['user_id']}:{d.isoformat()}"
        if ledger.tx_exists(conn, key):
            continue  # another period of this user (an upgrade day) already paid this date
        ledger.post(
            conn,
            key,
            "og_bonus",
            [(A.user_account(s["user_id"], A.BONUS), s["daily_bonus"]), (A.BONUS_ISSUER, -s["daily_bonus"])],
            iso(now),
            {"tier": s["tier"], "date": d.isoformat(), "subscription": s["id"]},
        )
        paid.append((s["user_id"], d.isoformat(), s["daily_bonus"]))
        posts += 1
    # Settled through the SQL's last owed date (where owed_dates stops too), so the period is not
    # selected again until a new date is owed.
    conn.execute("UPDATE og_subscriptions SET bonus_paid_through = ? WHERE id = ?", (s["last_owed"], s["id"]))
    return posts


def pay_daily_bonuses(conn: sqlite3.Connection, now: datetime, limit: int = BATCH) -> list[tuple[str, str, int]]:
    """One bounded batch (see pay_batch); what it paid as (user, date, coins)."""
    return pay_batch(conn, now, limit).paid


# Users whose og_level may be out of line with the subscriptions: their level ran out (the partial
# index users_og_expiry), or they are at level 0 with a period in force (a queued period whose
# predecessor was revoked; index og_subscriptions_open).
_STALE = "SELECT id FROM users WHERE og_level > 0 AND og_expires_at <= :now"
_STARTED = (
    "SELECT DISTINCT s.user_id AS id FROM og_subscriptions s JOIN users u ON u.id = s.user_id "
    "WHERE s.ended_at IS NULL AND s.expires_at > :now AND s.starts_at <= :now AND u.og_level = 0"
)


def level_query(now: datetime) -> tuple[str, dict[str, Any]]:
    """(sql, params) listing the users expire_batch should look at; the job runs it on a reader."""
    return f"{_STALE} UNION {_STARTED}", {"now": iso(now)}


@dataclass
class ExpiryBatch:
    events: list[Event] = field(default_factory=list)
    consumed: int = 0
    more: bool = False


def expire_batch(
    conn: sqlite3.Connection, now: datetime, limit: int = BATCH, users: list[str] | None = None
) -> ExpiryBatch:
    """Bring users.og_level in line with the subscriptions for at most `limit` users of each kind
    (or for `users`), with an og:changed event for each level that changed."""
    out = ExpiryBatch()
    at = {"now": iso(now), "limit": limit}
    if users is None:
        stale = [r[0] for r in conn.execute(f"{_STALE} LIMIT :limit", at)]
        started = [r[0] for r in conn.execute(f"{_STARTED} LIMIT :limit", at)]
        out.more = len(stale) >= limit or len(started) >= limit
        todo = stale + started
    else:
        todo = users[:limit]
        out.more = len(users) > limit
    for user_id in todo:
        out.consumed += 1
        row = conn.execute("SELECT og_level FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            continue
        level, until = refresh_user_level(conn, user_id, now)
        if level != row["og_level"]:
            reason = "expired" if level < row["og_level"] else "started"
            out.events.append(
                Event(
                    OG_CHANGED,
                    {"userId": user_id, "ogLevel": level, "ogExpiresAt": until, "reason": reason},
                    users=(user_id,),
                )
            )
    return out


def expire_tiers(conn: sqlite3.Connection, now: datetime, limit: int = BATCH) -> list[Event]:
    """One bounded batch (see expire_batch); the og:changed events to publish after commit."""
    return expire_batch(conn, now, limit).events
