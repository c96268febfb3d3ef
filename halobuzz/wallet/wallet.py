"""Wallet rules: what a user holds, spending (bonus first), spend caps, holds and payouts.

Spending order — bonus coins first, then paid coins. Bonus coins are the OG
daily allowance: spending them first keeps the user's paid coins (which they
bought and which refunds claw back) intact, and a gift paid partly with bonus
coins earns the host only the paid part (bonus coins are burned, never earned).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from ..accounts.users import ADULT_AGE, age_on
from ..errors import Conflict, Forbidden, Invalid
from ..infra.clock import iso
from . import accounts as A
from . import ledger

MAX_SINGLE_SPEND = 10_000_000


@dataclass(frozen=True)
class SpendPolicy:
    default_daily_limit_adult: int = 0  # 0 = no cap unless the user sets one
    default_daily_limit_minor: int = 2_000  # under-18 accounts


WALLET_VIEW_SQL = (
    "SELECT (SELECT balance FROM ledger_accounts WHERE id = ?1 || ':paid') AS paid, "
    "(SELECT balance FROM ledger_accounts WHERE id = ?1 || ':bonus') AS bonus, "
    "(SELECT balance FROM ledger_accounts WHERE id = ?1 || ':held') AS held, "
    "(SELECT balance FROM ledger_accounts WHERE id = ?1 || ':earnings') AS earnings, "
    "s.total_earned, s.total_spent FROM (SELECT 1) LEFT JOIN wallet_stats s ON s.user_id = ?1"
)


def view(conn: sqlite3.Connection, user_id: str) -> dict[str, int]:
    """One query: the four bucket balances and the lifetime totals."""
    return view_from_row(conn.execute(WALLET_VIEW_SQL, (user_id,)).fetchone())


def view_from_row(r: sqlite3.Row) -> dict[str, int]:
    return {
        "balance": r["paid"] or 0,
        "bonusBalance": r["bonus"] or 0,
        "totalEarned": r["total_earned"] or 0,
        "totalSpent": r["total_spent"] or 0,
        "earningsHeld": r["held"] or 0,
        "earningsAvailable": r["earnings"] or 0,
    }


def daily_limit(user: sqlite3.Row, today: date, policy: SpendPolicy) -> int:
    """The cap that applies today (0 = none). Minors never get more than the minor default."""
    minor = age_on(date.fromisoformat(user["birth_date"]), today) < ADULT_AGE
    # ... or judged under 18 by a moderator (users.judged_minor, migration 0005; see moderation.restrictions).
    minor = minor or bool("judged_minor" in user.keys() and user["judged_minor"])
    own = user["daily_spend_limit"]
    if minor:
        cap = policy.default_daily_limit_minor
        return min(own, cap) if own else cap
    return own if own else policy.default_daily_limit_adult


def spent_today(conn: sqlite3.Connection, user_id: str, today: str) -> int:
    row = conn.execute("SELECT spend_day, spent_today FROM wallet_stats WHERE user_id = ?", (user_id,)).fetchone()
    return row["spent_today"] if row and row["spend_day"] == today else 0


@dataclass(frozen=True)
class Debit:
    paid: int
    bonus: int
    paid_before: int = 0
    bonus_before: int = 0

    @property
    def total(self) -> int:
        return self.paid + self.bonus


def plan_spend(
    conn: sqlite3.Connection,
    user: sqlite3.Row,
    amount: int,
    now: datetime,
    policy: SpendPolicy,
    *,
    allow_bonus: bool = True,
) -> Debit:
    """Decide how `amount` is paid (bonus first) and check balance and today's cap.

    Raises Conflict (409) with the balances when the coins are not there.
    """
    if amount <= 0 or amount > MAX_SINGLE_SPEND:
        raise Invalid(f"amount must be between 1 and {MAX_SINGLE_SPEND}", field="amount")
    user_id = user["id"]
    paid, bonus_now = ledger.balances_of(conn, user_id)
    bonus = bonus_now if allow_bonus else 0
    if paid < 0:
        raise Conflict(
            "spending is paused until a negative balance (from a refund) is paid back",
            code="negative_balance",
            extra={"balance": paid},
        )
    use_bonus = min(max(bonus, 0), amount)
    use_paid = amount - use_bonus
    if use_paid > max(paid, 0):
        raise Conflict(
            "not enough coins",
            code="insufficient_coins",
            extra={"balance": paid, "bonusBalance": bonus_now, "required": amount},
        )
    cap = daily_limit(user, now.date(), policy)
    if cap:
        already = spent_today(conn, user_id, now.date().isoformat())
        if already + amount > cap:
            raise Conflict(
                f"this would pass the daily spend limit of {cap} coins",
                code="spend_limit",
                extra={"dailyLimit": cap, "spentToday": already},
            )
    return Debit(use_paid, use_bonus, paid, bonus_now)


def record_spend(conn: sqlite3.Connection, user_id: str, amount: int, today: str) -> None:
    conn.execute(
        "INSERT INTO wallet_stats(user_id, total_spent, spend_day, spent_today) VALUES (?1, ?2, ?3, ?2) "
        "ON CONFLICT(user_id) DO UPDATE SET total_spent = total_spent + ?2, "
        "spent_today = CASE WHEN spend_day = ?3 THEN spent_today + ?2 ELSE ?2 END, spend_day = ?3",
        (user_id, amount, today),
    )


def record_earning(conn: sqlite3.Connection, user_id: str, amount: int, *, fee_carry: int | None = None) -> None:
    conn.execute(
        "INSERT INTO wallet_stats(user_id, total_earned, fee_carry) VALUES (?1, ?2, COALESCE(?3, 0)) "
        "ON CONFLICT(user_id) DO UPDATE SET total_earned = total_earned + ?2, "
        "fee_carry = COALESCE(?3, fee_carry)",
        (user_id, amount, fee_carry),
    )


def hold_earnings(conn: sqlite3.Connection, user_id: str, tx_id: int, amount: int, release_at: datetime) -> None:
    conn.execute(
        "INSERT INTO earnings_holds(user_id, tx_id, amount, remaining, release_at) VALUES (?,?,?,?,?)",
        (user_id, tx_id, amount, amount, iso(release_at)),
    )


def release_due_holds(conn: sqlite3.Connection, now: datetime, limit: int = 500) -> int:
    """Move matured held earnings to withdrawable earnings. Idempotent (key per hold)."""
    due = conn.execute(
        "SELECT id, user_id, remaining FROM earnings_holds WHERE released_at IS NULL AND release_at <= ? "
        "ORDER BY release_at LIMIT ?",
        (iso(now), limit),
    ).fetchall()
    for h in due:
        if h["remaining"] > 0:
            ledger.post(
                conn,
                f"release:{h['id']}",
                "release",
                [
                    (A.user_account(h["user_id"], A.HELD), -h["remaining"]),
                    (A.user_account(h["user_id"], A.EARNINGS), h["remaining"]),
                ],
                iso(now),
                {"hold": h["id"]},
            )
        conn.execute("UPDATE earnings_holds SET released_at = ? WHERE id = ?", (iso(now), h["id"]))
    return len(due)


def refuse_minor_raise(user: sqlite3.Row | None, limit: int | None, today: date, policy: SpendPolicy) -> None:
    """A user under 18 (by birth date or a moderator's judgement) may lower the daily cap, never
    raise it above the minors' cap: say so (403) instead of storing a value that would not apply."""
    if user is None or not limit:
        return
    cap = policy.default_daily_limit_minor
    if limit > cap and _is_minor(user, today):
        raise Forbidden(
            f"accounts under 18 have a daily spend limit of at most {cap} coins; it can be lowered, not raised",
            code="minor_spend_limit",
            field="dailySpendLimit",
            extra={"maxDailyLimit": cap},
        )


def _is_minor(user: sqlite3.Row, today: date) -> bool:
    return age_on(date.fromisoformat(user["birth_date"]), today) < ADULT_AGE or bool(
        "judged_minor" in user.keys() and user["judged_minor"]
    )


def set_daily_limit(
    conn: sqlite3.Connection, user_id: str, limit: int | None, *, by_admin: bool = False, lock: bool | None = None
) -> None:
    """Set a user's daily cap (None or 0 = the default for their age).

    An admin may set any cap and lock it (a parental lock): a locked cap can then only be
    lowered by the user, never raised or removed.
    """
    if limit is not None and not 0 <= limit <= MAX_SINGLE_SPEND:
        raise Invalid(f"dailySpendLimit must be between 0 and {MAX_SINGLE_SPEND}", field="dailySpendLimit")
    user = conn.execute("SELECT daily_spend_limit, spend_limit_locked FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None:
        from ..errors import NotFound

        raise NotFound("no such user", field="user")
    if user["spend_limit_locked"] and not by_admin:
        current = user["daily_spend_limit"]
        if not limit or (current and limit > current):
            raise Forbidden(
                "this daily limit was locked by an admin; it can only be lowered",
                code="spend_limit_locked",
                field="dailySpendLimit",
            )
    locked = user["spend_limit_locked"] if lock is None or not by_admin else int(lock)
    conn.execute(
        "UPDATE users SET daily_spend_limit = ?, spend_limit_locked = ? WHERE id = ?", (limit or None, locked, user_id)
    )


def transactions_query(user_id: str, *, limit: int = 50, before: int | None = None) -> tuple[str, list[Any]]:
    """The user's ledger lines, newest first (cursor = entry id).

    One index range per bucket (ledger_entries(account_id, id)), each stopped at `limit`,
    merged: the cost stays proportional to the page, not to the user's whole history.
    """
    bound = before if before else 2**63 - 1
    parts, params = [], []
    for bucket in A.USER_BUCKETS:
        parts.append(
            "SELECT * FROM (SELECT id, tx_id, amount, ? AS bucket FROM ledger_entries "
            "WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?)"
        )
        params += [bucket, A.user_account(user_id, bucket), bound, limit]
    sql = (
        "SELECT e.id, e.amount, e.bucket, t.kind, t.created_at, t.memo FROM ("
        + " UNION ALL ".join(parts)
        + ") e JOIN ledger_tx t ON t.id = e.tx_id ORDER BY e.id DESC LIMIT ?"
    )
    return sql, [*params, limit]


def transaction_rows(rows: Iterable[sqlite3.Row]) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "amount": r["amount"],
            "bucket": r["bucket"],
            "kind": r["kind"],
            "at": r["created_at"],
            "memo": json.loads(r["memo"]) if r["memo"] else None,
        }
        for r in rows
    ]


def transactions(
    conn: sqlite3.Connection, user_id: str, *, limit: int = 50, before: int | None = None
) -> list[dict[str, Any]]:
    return transaction_rows(conn.execute(*transactions_query(user_id, limit=limit, before=before)))


# -- payouts ---------------------------------------------------------------------------


def request_payout(
    conn: sqlite3.Connection, payout_id: str, user_id: str, amount: int, now: datetime
) -> dict[str, Any]:
    if amount <= 0:
        raise Invalid("amount must be positive", field="amount")
    available = ledger.balance(conn, A.user_account(user_id, A.EARNINGS))
    if amount > available:
        raise Conflict(
            "not enough withdrawable earnings", code="insufficient_earnings", extra={"earningsAvailable": available}
        )
    ledger.post(
        conn,
        f"payout:{payout_id}",
        "payout_request",
        [(A.user_account(user_id, A.EARNINGS), -amount), (A.PAYOUTS_PENDING, amount)],
        iso(now),
        {"payout": payout_id},
    )
    conn.execute(
        "INSERT INTO payouts(id, user_id, amount, status, requested_at) VALUES (?,?,?,?,?)",
        (payout_id, user_id, amount, "pending", iso(now)),
    )
    return {"id": payout_id, "amount": amount, "status": "pending"}


def decide_payout(
    conn: sqlite3.Connection, payout_id: str, approve: bool, decided_by: str, now: datetime, note: str | None = None
) -> dict[str, Any]:
    p = conn.execute("SELECT * FROM payouts WHERE id = ?", (payout_id,)).fetchone()
    if p is None:
        from ..errors import NotFound

        raise NotFound("no such payout", field="payout")
    if p["status"] != "pending":
        raise Conflict(f"payout is already {p['status']}", code="payout_decided")
    if approve:
        legs = [(A.PAYOUTS_PENDING, -p["amount"]), (A.PAYOUTS_PAID, p["amount"])]
    else:
        legs = [(A.PAYOUTS_PENDING, -p["amount"]), (A.user_account(p["user_id"], A.EARNINGS), p["amount"])]
    ledger.post(
        conn,
        f"payout-{'approve' if approve else 'reject'}:{payout_id}",
        "payout_decision",
        legs,
        iso(now),
        {"payout": payout_id, "by": decided_by},
    )
    status = "approved" if approve else "rejected"
    conn.execute(
        "UPDATE payouts SET status = ?, decided_at = ?, decided_by = ?, note = ? WHERE id = ?",
        (status, iso(now), decided_by, note, payout_id),
    )
    return {"id": payout_id, "amount": p["amount"], "status": status, "userId": p["user_id"]}


def adjust(
    conn: sqlite3.Connection, key: str, user_id: str, amount: int, bucket: str, reason: str, now: datetime
) -> ledger.Posted:
    """Operator grant (amount > 0) or revocation (amount < 0) against sys:admin_adjust."""
    if bucket not in (A.PAID, A.BONUS):
        raise Invalid("bucket must be paid or bonus", field="bucket")
    if amount == 0:
        raise Invalid("amount must not be zero", field="amount")
    if not reason.strip():
        raise Invalid("a reason is required", field="reason")
    return ledger.post(
        conn,
        key,
        "grant" if amount > 0 else "revoke",
        [(A.user_account(user_id, bucket), amount), (A.ADMIN_ADJUST, -amount)],
        iso(now),
        {"reason": reason},
    )


PAYOUTS_SQL = (
    "SELECT p.*, u.username FROM payouts p JOIN users u ON u.id = p.user_id WHERE p.status = ? "
    "ORDER BY p.requested_at LIMIT ?"
)


def payout_json(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "userId": r["user_id"],
        "username": r["username"],
        "amount": r["amount"],
        "status": r["status"],
        "requestedAt": r["requested_at"],
        "decidedAt": r["decided_at"],
        "decidedBy": r["decided_by"],
        "note": r["note"],
    }
