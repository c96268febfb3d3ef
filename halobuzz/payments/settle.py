"""The one write unit that turns a verified gateway answer into coins (or takes them back).

Every path — browser return, Stripe webhook, reconciliation, admin — ends here, inside
one transaction with the event log row, so a duplicate, concurrent, late or
out-of-order delivery finds the ledger key already there and changes nothing:

* credit key  `credit:<gateway>:<gateway id>` (eSewa transaction_uuid = our order id,
  Khalti pidx, Stripe Checkout Session id), kept forever;
* clawbacks   `clawback:<gateway>:<id>:<cumulative amount>` / `clawback:stripe:<dispute id>`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from ..errors import DomainError
from ..events import Event
from ..infra.clock import iso
from ..og import subscribe as og_subscribe
from ..og.tiers import Tier
from ..wallet import accounts as A
from ..wallet import ledger, wallet
from . import refunds, store
from .gateways.base import (
    COMPLETED,
    EXPIRED,
    FAILED,
    PARTIALLY_REFUNDED,
    PENDING,
    REFUNDED,
    Status,
)


@dataclass
class Ctx:
    tiers: dict[int, Tier]
    spend: wallet.SpendPolicy
    new_id: Callable[[], str]


@dataclass
class Outcome:
    verdict: str  # credited | duplicate | pending | failed | expired | refunded | ...
    reason: str | None = None
    order: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)
    revenue: tuple[str, str, int] | None = None  # (gateway, currency, minor units) credited now
    clawed: tuple[str, int] | None = None  # (gateway, coins) clawed back now

    def body(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "order": self.order}


def credit_id(order: sqlite3.Row) -> str:
    return order["id"] if order["gateway"] == "esewa" else order["gateway_ref"]


def credit_key(order: sqlite3.Row) -> str:
    return f"credit:{order['gateway']}:{credit_id(order)}"


def _finish(conn: sqlite3.Connection, order_id: str, out: Outcome) -> Outcome:
    out.order = store.order_json(store.get(conn, order_id))
    return out


def apply(conn: sqlite3.Connection, order_id: str, st: Status, now: datetime, ctx: Ctx) -> Outcome:
    order = store.get(conn, order_id)
    gw = order["gateway"]
    credited = order["status"] in store.CREDITED
    if st.state == COMPLETED:
        return _finish(conn, order_id, _credit(conn, order, st, now, ctx))
    if st.state == PENDING:
        if order["status"] == "created":
            store.update(conn, order_id, now, status="pending")
        return _finish(conn, order_id, Outcome("duplicate" if credited else "pending", st.gateway_status))
    if st.state in (FAILED, EXPIRED):
        if order["status"] in store.OPEN:
            store.update(
                conn,
                order_id,
                now,
                status="failed" if st.state == FAILED else "expired",
                note=f"gateway: {st.gateway_status}",
            )
            return _finish(conn, order_id, Outcome(st.state, st.gateway_status))
        if credited and st.state == FAILED:
            # eSewa CANCELED after COMPLETE: the payment was reversed.
            return _finish(
                conn,
                order_id,
                refund_to(
                    conn,
                    order,
                    order["amount_minor"],
                    f"clawback:{gw}:{credit_id(order)}:reversed",
                    f"{gw} {st.gateway_status}",
                    now,
                ),
            )
        return _finish(
            conn, order_id, Outcome("ignored", f"order is {order['status']}; gateway says {st.gateway_status}")
        )
    if st.state == REFUNDED:
        if not credited:
            store.update(
                conn,
                order_id,
                now,
                refunded_minor=order["amount_minor"],
                status="failed" if order["status"] in store.OPEN else order["status"],
                note=f"gateway: {st.gateway_status} before any credit",
            )
            return _finish(conn, order_id, Outcome("refunded", "refunded before it was credited"))
        return _finish(
            conn,
            order_id,
            refund_to(
                conn,
                order,
                order["amount_minor"],
                f"clawback:{gw}:{credit_id(order)}:full",
                f"{gw} {st.gateway_status}",
                now,
            ),
        )
    if st.state == PARTIALLY_REFUNDED:
        if order["status"] == "partially_refunded" or not credited:
            return _finish(conn, order_id, Outcome("duplicate", st.gateway_status))
        # eSewa/Khalti do not say how much: freeze nothing automatically, flag for an operator,
        # who records the amount with the manual refund (admin API / CLI).
        store.update(
            conn,
            order_id,
            now,
            status="partially_refunded",
            needs_review=1,
            note=f"gateway: {st.gateway_status}; amount not reported, record it with a manual refund",
        )
        return _finish(conn, order_id, Outcome("partially_refunded", "needs review: amount not reported"))
    return _finish(conn, order_id, Outcome("ignored", f"unknown gateway status {st.gateway_status!r}"))


def _credit(conn: sqlite3.Connection, order: sqlite3.Row, st: Status, now: datetime, ctx: Ctx) -> Outcome:
    gw, order_id = order["gateway"], order["id"]
    if st.amount_minor != order["amount_minor"] or (st.currency and st.currency.upper() != order["currency"]):
        store.update(
            conn,
            order_id,
            now,
            needs_review=1,
            note=f"amount mismatch: gateway {st.amount_minor} {st.currency}, order "
            f"{order['amount_minor']} {order['currency']}",
        )
        return Outcome("mismatch", f"gateway amount {st.amount_minor} {st.currency} does not match the order")
    key = credit_key(order)
    if ledger.tx_exists(conn, key) or order["status"] in store.CREDITED:
        return Outcome("duplicate", "already credited")
    at = iso(now)
    posted = ledger.post(
        conn,
        key,
        "purchase",
        [(A.PAYMENT_MINT, -order["coins"]), (A.user_account(order["user_id"], A.PAID), order["coins"])],
        at,
        {
            "order": order_id,
            "gateway": gw,
            "ref": credit_id(order),
            "txn": st.txn,
            "amount": order["amount_minor"],
            "currency": order["currency"],
        },
    )
    store.update(
        conn,
        order_id,
        now,
        status="completed",
        completed_at=at,
        credit_tx_id=posted.tx_id,
        gateway_txn=st.txn or order["gateway_txn"],
        note=None,
    )
    out = Outcome("credited", st.gateway_status, revenue=(gw, order["currency"], order["amount_minor"]))
    if order["og_tier"]:
        tier = ctx.tiers.get(order["og_tier"])
        conn.execute("SAVEPOINT og_order")
        try:
            if tier is None:
                raise DomainError(f"OG tier {order['og_tier']} no longer exists")
            sub_id = ctx.new_id()
            sub = og_subscribe.subscribe(
                conn,
                user_id=order["user_id"],
                tier=tier,
                key=f"order-{order_id}",
                sub_id=sub_id,
                now=now,
                spend=ctx.spend,
            )
            store.update(conn, order_id, now, subscription_id=sub_id)
            out.events += sub.events
            conn.execute("RELEASE og_order")
        except DomainError as exc:
            # The payment is real: the coins stay credited, the tier can be bought with them later.
            conn.execute("ROLLBACK TO og_order")
            conn.execute("RELEASE og_order")
            store.update(conn, order_id, now, note=f"coins credited; OG tier not bought: {exc.message}")
            out.reason = f"coins credited; OG tier not bought: {exc.message}"
    if order["refunded_minor"]:
        # A refund reported before the credit (Stripe does not order its events): apply it now.
        fresh = store.get(conn, order_id)
        r = refund_to(
            conn,
            fresh,
            order["refunded_minor"],
            f"clawback:{gw}:{credit_id(order)}:early",
            "refund reported before the payment",
            now,
        )
        out.events += r.events
        out.clawed = r.clawed
    return out


def refund_to(
    conn: sqlite3.Connection,
    order: sqlite3.Row,
    refunded_total: int,
    key: str,
    reason: str,
    now: datetime,
    *,
    status: str | None = None,
) -> Outcome:
    """Bring the clawback up to `refunded_total` (cumulative, minor units) of the order's amount."""
    order_id = order["id"]
    total = min(max(refunded_total, 0), order["amount_minor"])
    if order["status"] not in store.CREDITED:
        if total > order["refunded_minor"]:
            store.update(conn, order_id, now, refunded_minor=total)
        return Outcome("pending_refund", "refund recorded; the payment is not credited yet")
    target = order["coins"] * total // order["amount_minor"]
    delta = target - order["clawed_coins"]
    new_status = status or ("refunded" if total >= order["amount_minor"] else "partially_refunded")
    store.update(conn, order_id, now, refunded_minor=max(total, order["refunded_minor"]), status=new_status)
    if delta <= 0:
        return Outcome("duplicate", "already clawed back")
    c = refunds.clawback(conn, order, delta, key, reason, now)
    if c.duplicate:
        return Outcome("duplicate", "already clawed back")
    return Outcome(
        "refunded",
        f"{c.coins} coins clawed back; {c.earnings_reversed} held earnings and {c.og_reversed} OG coins reversed",
        events=c.events,
        clawed=(order["gateway"], c.coins),
    )


def dispute(
    conn: sqlite3.Connection, order: sqlite3.Row, dispute_id: str, amount: int, status: str, now: datetime
) -> Outcome:
    """Stripe chargebacks: claw back on open, re-credit on won, keep on lost."""
    key = f"clawback:stripe:{dispute_id}"
    if status == "won":
        coins = refunds.recredit(conn, order, key, f"recredit:stripe:{dispute_id}", "dispute won", now)
        if coins:
            fresh = store.get(conn, order["id"])
            store.update(
                conn,
                order["id"],
                now,
                status="completed" if fresh["clawed_coins"] <= 0 else fresh["status"],
                refunded_minor=max(0, fresh["refunded_minor"] - amount),
            )
            return Outcome("recredited", f"dispute won: {coins} coins back")
        if not ledger.tx_exists(conn, key):
            # Won before its opening reached us (webhooks are not ordered): remember it, so the
            # opening arriving later takes nothing (coins 0: no ledger movement, not a chargeback).
            conn.execute(
                "INSERT OR IGNORE INTO payment_clawbacks(key, order_id, coins, reason, created_at) VALUES (?,?,0,?,?)",
                (f"recredit:stripe:{dispute_id}", order["id"], "dispute won before its opening arrived", iso(now)),
            )
        return Outcome("duplicate", "nothing to re-credit")
    if status == "lost":
        opened = None
        if not ledger.tx_exists(conn, key) and order["status"] in store.CREDITED and order["status"] != "disputed":
            # The dispute's opening never reached us (not subscribed, or its deliveries failed):
            # the money is gone for good, so the coins go now (as on open), then the order closes.
            opened = dispute(conn, order, dispute_id, amount, "open", now)
            order = store.get(conn, order["id"])
        if order["status"] != "disputed":
            return Outcome("duplicate", f"dispute lost; the order is {order['status']}")
        store.update(
            conn,
            order["id"],
            now,
            status="refunded" if order["clawed_coins"] >= order["coins"] else "partially_refunded",
            refunded_minor=max(order["refunded_minor"], min(amount, order["amount_minor"])),
            note=f"dispute {dispute_id} lost: the clawback stands",
        )
        if opened is not None:
            return Outcome("refunded", f"dispute lost: {opened.reason}", events=opened.events, clawed=opened.clawed)
        return Outcome("refunded", "dispute lost: the clawback stands")
    if order["status"] not in store.CREDITED:
        store.update(conn, order["id"], now, needs_review=1, note=f"dispute {dispute_id} before the credit")
        return Outcome("ignored", "dispute on an order that was never credited")
    if conn.execute("SELECT 1 FROM payment_clawbacks WHERE key = ?", (f"recredit:stripe:{dispute_id}",)).fetchone():
        return Outcome("duplicate", "dispute already won")
    if ledger.tx_exists(conn, key):
        # This dispute's clawback is done (an opening event repeated, or arriving after the close,
        # webhooks are not ordered): it neither takes more nor reopens a closed order.
        return Outcome("duplicate", "dispute already clawed back")
    remaining = order["coins"] - order["clawed_coins"]
    coins = min(remaining, order["coins"] * min(amount, order["amount_minor"]) // order["amount_minor"])
    store.update(conn, order["id"], now, status="disputed")
    c = refunds.clawback(conn, order, coins, key, f"stripe dispute {dispute_id}", now)
    if c.duplicate or not c.coins:
        return Outcome("duplicate", "dispute already clawed back")
    return Outcome(
        "refunded", f"dispute opened: {c.coins} coins clawed back", events=c.events, clawed=("stripe", c.coins)
    )
