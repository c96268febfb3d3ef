"""Reading a user's trust signals from the tables their owners keep (a handful of indexed queries)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from ..errors import NotFound
from ..infra.clock import iso, parse_iso
from .scoring import Score, Signals, score

AUTOMATED_WINDOW_DAYS = 90
# Reporter outcomes recorded by moderation (reports.py) under these reasons.
UPHELD, DISMISSED = "report confirmed", "report dismissed"


def gather(conn: sqlite3.Connection, user_id: str, now: datetime) -> Signals:
    user = conn.execute("SELECT created_at, trust_verified FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None:
        raise NotFound("no such user", field="userId")
    rep = conn.execute(
        "SELECT COALESCE(SUM(reason = ?2), 0), COALESCE(SUM(reason = ?3), 0), "
        "COALESCE(SUM(CASE WHEN reason NOT IN (?2, ?3) THEN delta END), 0) "
        "FROM reputation_events WHERE user_id = ?1",
        (user_id, UPHELD, DISMISSED),
    ).fetchone()
    blocks = conn.execute(
        "SELECT COUNT(*) FROM moderation_decisions WHERE user_id = ? AND at >= ? AND action = 'block'",
        (user_id, iso(now - timedelta(days=AUTOMATED_WINDOW_DAYS))),
    ).fetchone()[0]
    pay = conn.execute(
        "SELECT COUNT(*) FROM payment_orders WHERE user_id = ? AND credit_tx_id IS NOT NULL", (user_id,)
    ).fetchone()[0]
    claw = conn.execute(
        "SELECT COUNT(DISTINCT CASE WHEN c.key LIKE 'clawback:stripe:dp\\_%' ESCAPE '\\' OR c.key LIKE '%:reversed' "
        "THEN c.key END), COUNT(DISTINCT CASE WHEN NOT (c.key LIKE 'clawback:stripe:dp\\_%' ESCAPE '\\' OR "
        "c.key LIKE '%:reversed') THEN c.order_id END) FROM payment_clawbacks c JOIN payment_orders o "
        "ON o.id = c.order_id WHERE o.user_id = ? AND c.coins > 0",
        (user_id,),
    ).fetchone()
    streamed = conn.execute(
        "SELECT COALESCE(SUM(duration_seconds), 0) FROM streams WHERE host_id = ? AND status = 'ended'", (user_id,)
    ).fetchone()[0]
    earned = conn.execute("SELECT COALESCE(total_earned, 0) FROM wallet_stats WHERE user_id = ?", (user_id,)).fetchone()
    created = parse_iso(user["created_at"])
    return Signals(
        account_days=max(0, (now - created).days) if created else 0,
        payments=pay,
        streaming_seconds=int(streamed),
        coins_earned=earned[0] if earned else 0,
        reports_upheld=int(rep[0]),
        reports_dismissed=int(rep[1]),
        confirmed_delta=int(rep[2]),
        automated_blocks=blocks,
        refunds=int(claw[1]),
        chargebacks=int(claw[0]),
        verified=bool(user["trust_verified"]),
    )


def evaluate(conn: sqlite3.Connection, user_id: str, now: datetime) -> Score:
    return score(gather(conn, user_id, now))


def explain(conn: sqlite3.Connection, user_id: str, now: datetime, top: int = 5) -> dict:
    """The body of GET /me/trust: score, level, what moved it most, and the latest recorded events."""
    s = evaluate(conn, user_id, now)
    events = [
        {"delta": r["delta"], "reason": r["reason"], "at": r["at"]}
        for r in conn.execute(
            "SELECT delta, reason, at FROM reputation_events WHERE user_id = ? ORDER BY id DESC LIMIT 10", (user_id,)
        )
    ]
    return {
        "score": s.score,
        "level": s.level,
        "topContributions": s.top(top),
        "contributions": [c.as_json() for c in s.contributions],
        "recentEvents": events,
    }


def sync(conn: sqlite3.Connection, user_id: str, now: datetime) -> int:
    """Store the computed score on the user row (what /me shows). Inside a write unit."""
    s = evaluate(conn, user_id, now)
    conn.execute("UPDATE users SET trust_score = ? WHERE id = ? AND trust_score <> ?", (s.score, user_id, s.score))
    return s.score
