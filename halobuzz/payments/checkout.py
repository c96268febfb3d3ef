"""Creating an order: the rules checked before any gateway is asked."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

from ..accounts.users import ADULT_AGE, age_on
from ..errors import Forbidden, Invalid
from ..infra.clock import iso
from .packs import Pack


def check_buyer(user: sqlite3.Row, today: date) -> None:
    """Under-18 accounts may not buy coins (the moderation work may add more restrictions)."""
    if user is None:
        raise Forbidden("no such account", code="account_blocked")
    if user["status"] not in (None, "active"):
        raise Forbidden("this account cannot buy coins", code="account_blocked")
    if age_on(date.fromisoformat(user["birth_date"]), today) < ADULT_AGE:
        raise Forbidden("accounts under 18 cannot buy coins", code="minor_purchase")


def insert_order(
    conn: sqlite3.Connection, *, order_id: str, user_id: str, gateway: str, pack: Pack, now: datetime, ttl_seconds: int
) -> None:
    if gateway not in pack.gateways:
        raise Invalid(f"pack {pack.id} is not sold through {gateway}", field="packId")
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    check_buyer(user, now.date())
    # A moderator's under-18 judgement restricts too (halobuzz.moderation.restrictions).
    from ..moderation.restrictions import require_can_pay

    require_can_pay(conn, user_id, now.date())
    at = iso(now)
    conn.execute(
        "INSERT INTO payment_orders(id, user_id, gateway, pack_id, og_tier, currency, amount_minor, coins, "
        "status, gateway_ref, created_at, expires_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            order_id,
            user_id,
            gateway,
            pack.id,
            pack.og_tier,
            pack.currency,
            pack.amount_minor,
            pack.coins,
            "created",
            order_id if gateway == "esewa" else None,
            at,
            iso(now + timedelta(seconds=ttl_seconds)),
            at,
        ),
    )
