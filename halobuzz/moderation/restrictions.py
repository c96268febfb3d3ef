"""Restrictions for accounts judged under 18 — one place every area asks.

An account is a *restricted minor* when its declared birth date makes it under 18, OR a
moderator judged it under 18 (`users.judged_minor = 1`, set by `judge_minor`). The age
model alone never sets this: a selfie only queues a review item for a human.

What a restricted minor may not do, and the function each area calls (all take a plain
sqlite3 connection — the writer's inside a write unit, or `services.db.inline.conn` — and raise
`halobuzz.errors.Forbidden` with code ``minor_restricted``):

* payments — `require_can_pay(conn, user_id)` before creating an order
  (wired into halobuzz/payments/checkout.py insert_order);
* spend caps — the wallet's `daily_limit` applies the minor cap when `judged_minor` is set
  (halobuzz/wallet/wallet.py), in addition to the birth-date rule;
* games of chance — `require_games_of_chance(conn, user_id)` before any bet/spin/draw
  (for the games package, when it lands);
* DMs from strangers — `require_dm_allowed(conn, sender_id, recipient_id)` in the DM send
  path (wired into halobuzz/dms/service.py): a minor receives DMs only from people they
  have written to first.

Use `is_restricted_minor(conn, user_id)` for a yes/no answer (e.g. to hide UI).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone
from typing import Any

from ..accounts import audit
from ..errors import Forbidden, Invalid, NotFound
from ..infra.clock import iso

ADULT_AGE = 18
CODE = "minor_restricted"


def _age(birth_date: str, today: date) -> int | None:
    try:
        born = date.fromisoformat(birth_date)
    except (TypeError, ValueError):
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def row_is_minor(user: Any, today: date | None = None) -> bool:
    """For a users row (sqlite3.Row or dict) already in hand."""
    if user is None:
        return False
    keys = user.keys()
    if "judged_minor" in keys and user["judged_minor"]:
        return True
    age = _age(user["birth_date"], today or datetime.now(timezone.utc).date()) if "birth_date" in keys else None
    return age is not None and age < ADULT_AGE


def is_restricted_minor(conn: sqlite3.Connection, user_id: str, today: date | None = None) -> bool:
    """True when the account is under 18 by declared birth date or by a moderator's judgement."""
    row = conn.execute("SELECT birth_date, judged_minor FROM users WHERE id = ?", (user_id,)).fetchone()
    return row_is_minor(row, today)


def require_can_pay(conn: sqlite3.Connection, user_id: str, today: date | None = None) -> None:
    if is_restricted_minor(conn, user_id, today):
        raise Forbidden("accounts under 18 cannot buy coins", code=CODE)


def require_games_of_chance(conn: sqlite3.Connection, user_id: str, today: date | None = None) -> None:
    if is_restricted_minor(conn, user_id, today):
        raise Forbidden("accounts under 18 cannot play games of chance", code=CODE)


def dm_refusal(conn: sqlite3.Connection, sender_id: str, recipient_id: str, today: date | None = None) -> str | None:
    """Why `sender_id` may not start/continue a DM to `recipient_id`, or None.

    A restricted minor receives DMs only from someone they have written to first.
    """
    if not is_restricted_minor(conn, recipient_id, today):
        return None
    a, b = sorted((sender_id, recipient_id))
    row = conn.execute(
        "SELECT EXISTS(SELECT 1 FROM dm_messages m JOIN dm_conversations c ON c.id = m.conversation_id "
        "WHERE c.user_a = ? AND c.user_b = ? AND m.sender_id = ?)",
        (a, b, recipient_id),
    ).fetchone()
    if row and row[0]:
        return None
    return "this user does not accept messages from people they have not written to"


def require_dm_allowed(conn: sqlite3.Connection, sender_id: str, recipient_id: str, today: date | None = None) -> None:
    why = dm_refusal(conn, sender_id, recipient_id, today)
    if why:
        raise Forbidden(why, code="dm_not_allowed")


def summary(conn: sqlite3.Connection, user_id: str, today: date | None = None) -> dict[str, Any]:
    row = conn.execute("SELECT birth_date, judged_minor FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("no such user", field="userId")
    minor = row_is_minor(row, today)
    age = _age(row["birth_date"], today or datetime.now(timezone.utc).date())
    return {
        "restrictedMinor": minor,
        "judgedMinor": bool(row["judged_minor"]),
        "declaredMinor": age is not None and age < ADULT_AGE,
        "restrictions": ["payments", "spend_cap", "games_of_chance", "dms_from_strangers"] if minor else [],
    }


def judge_minor(
    conn: sqlite3.Connection, user_id: str, minor: bool, actor: audit.Actor, now: datetime, reason: str | None = None
) -> dict[str, Any]:
    """A moderator's judgement (never the model's): sets users.judged_minor, keeps history, audits."""
    row = conn.execute("SELECT id, judged_minor FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("no such user", field="userId")
    if not actor.name:
        raise Invalid("a judgement needs a named moderator", field="actor")
    conn.execute("UPDATE users SET judged_minor = ?, updated_at = ? WHERE id = ?", (int(minor), iso(now), user_id))
    conn.execute(
        "INSERT INTO minor_judgements(user_id, minor, by_user_id, by_name, reason, at) VALUES (?,?,?,?,?,?)",
        (user_id, int(minor), actor.user_id, actor.name, reason, iso(now)),
    )
    audit.record(
        conn,
        actor,
        "moderation.judge_minor",
        target_type="user",
        target_id=user_id,
        before={"judgedMinor": bool(row["judged_minor"])},
        after={"judgedMinor": minor, "reason": reason},
        at=iso(now),
    )
    return summary(conn, user_id, now.date())
