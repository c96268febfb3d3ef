"""Refunds and chargebacks: take the coins back through the ledger, then follow them.

The rule (documented in docs/payments.md, traced in payment_clawback_traces):

1. Claw back: the buyer's paid balance is debited the refunded coins
   (`<user>:paid -> sys:clawback`). It may go negative: that is a debt, and the wallet
   refuses to spend while the balance is negative.
2. What the buyer still held absorbs the clawback first. Only the *shortfall* (the part
   that drove the balance below zero, i.e. coins already spent) is traced.
3. The shortfall is attributed to the buyer's paid-coin spends made after the order's
   credit (gifts and OG purchases), newest first, never attributing more of one spend
   than it cost in paid coins, across every clawback (the trace table remembers).
4. Each attributed spend is reversed as far as the money is still inside the platform:
   * a gift: the host's share of the attributed part, limited to what is still held for
     that gift (earnings_holds.remaining, not yet released), goes back to the buyer's paid
     balance; released earnings and the platform fee are not touched;
   * an OG purchase: the period is revoked (og:changed) and the attributed coins go back
     from sys:og_sales to the buyer.
   The reversal credits the buyer, so it lowers the debt; it can never make the
   balance spendable, because it is at most the shortfall.
5. An order that bought an OG tier directly always has that tier revoked.
6. A host whose held earnings were reversed has `totalEarned` reduced by them.
A Stripe dispute that is won re-credits the coins its clawback took (keyed on the
dispute) and gives the host back the earnings it reversed (to `held` while the hold runs,
to `earnings` if it has been released since; `totalEarned` goes back up), taken from the
buyer's paid balance the reversal had credited. Revoked OG tiers stay revoked (the buyer
keeps the coins the reversal gave back). A lost dispute closes the order as refunded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..events import Event
from ..infra.clock import iso
from ..og import subscribe as og_subscribe
from ..wallet import accounts as A
from ..wallet import ledger
from ..wallet import wallet as W


@dataclass
class Clawed:
    key: str
    coins: int = 0
    earnings_reversed: int = 0
    og_reversed: int = 0
    revoked: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    duplicate: bool = False


def clawback(conn: sqlite3.Connection, order: sqlite3.Row, coins: int, key: str, reason: str, now: datetime) -> Clawed:
    out = Clawed(key)
    if coins <= 0 or ledger.tx_exists(conn, key):
        out.duplicate = ledger.tx_exists(conn, key) is not None
        return out
    user = order["user_id"]
    paid = A.user_account(user, A.PAID)
    before = ledger.balance(conn, paid)
    at = iso(now)
    ledger.post(
        conn,
        key,
        "refund",
        [(paid, -coins), (A.CLAWBACK, coins)],
        at,
        {"order": order["id"], "gateway": order["gateway"], "reason": reason},
    )
    out.coins = coins
    conn.execute(
        "INSERT INTO payment_clawbacks(key, order_id, coins, reason, created_at) VALUES (?,?,?,?,?)",
        (key, order["id"], coins, reason, at),
    )
    conn.execute(
        "UPDATE payment_orders SET clawed_coins = clawed_coins + ?, updated_at = ? WHERE id = ?",
        (coins, at, order["id"]),
    )
    _revoke_festival_bonus(conn, order, coins, key, at)
    shortfall = min(coins, coins - max(before, 0)) if before < coins else 0
    legs: list[tuple[str, int]] = []
    traced: list[dict[str, Any]] = []
    if shortfall > 0 and order["credit_tx_id"]:
        left = shortfall
        spends = conn.execute(
            "SELECT t.id, t.kind, -e.amount AS paid FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id "
            "WHERE e.account_id = ? AND e.amount < 0 AND t.kind IN ('gift','og_purchase') AND t.id > ? "
            "ORDER BY t.id DESC",
            (paid, order["credit_tx_id"]),
        ).fetchall()
        for s in spends:
            if left <= 0:
                break
            already = conn.execute(
                "SELECT COALESCE(SUM(attributed), 0) FROM payment_clawback_traces WHERE spend_tx_id = ?", (s["id"],)
            ).fetchone()[0]
            part = min(s["paid"] - already, left)
            if part <= 0:
                continue
            left -= part
            hold_id, taken, sub_id = None, 0, None
            if s["kind"] == "gift":
                hold = conn.execute(
                    "SELECT * FROM earnings_holds WHERE tx_id = ? AND released_at IS NULL AND remaining > 0", (s["id"],)
                ).fetchone()
                if hold:
                    taken = min(hold["remaining"], part * hold["amount"] // s["paid"])
                    if taken:
                        hold_id = hold["id"]
                        conn.execute(
                            "UPDATE earnings_holds SET remaining = remaining - ? WHERE id = ?", (taken, hold_id)
                        )
                        legs += [(A.user_account(hold["user_id"], A.HELD), -taken), (paid, taken)]
                        out.earnings_reversed += taken
                        W.record_earning(conn, hold["user_id"], -taken)  # totalEarned counts what stays earned
            else:
                sub = conn.execute("SELECT id FROM og_subscriptions WHERE tx_id = ?", (s["id"],)).fetchone()
                if sub:
                    sub_id = sub["id"]
                    out.events += og_subscribe.revoke(conn, sub_id, now, "payment_refunded")
                    out.revoked.append(sub_id)
                legs += [(A.OG_SALES, -part), (paid, part)]
                out.og_reversed += part
            conn.execute(
                "INSERT INTO payment_clawback_traces(clawback_key, spend_tx_id, attributed, hold_id, "
                "earnings_taken, subscription_id) VALUES (?,?,?,?,?,?)",
                (key, s["id"], part, hold_id, taken, sub_id),
            )
            traced.append(
                {
                    "spendTx": s["id"],
                    "kind": s["kind"],
                    "attributed": part,
                    "hold": hold_id,
                    "earningsTaken": taken,
                    "subscription": sub_id,
                }
            )
    if legs:
        merged: dict[str, int] = {}
        for acct, amount in legs:
            merged[acct] = merged.get(acct, 0) + amount
        ledger.post(
            conn,
            f"{key}:reversal",
            "refund_reversal",
            list(merged.items()),
            at,
            {"order": order["id"], "clawback": key, "traced": traced},
        )
    if order["subscription_id"] and order["subscription_id"] not in out.revoked:
        ev = og_subscribe.revoke(conn, order["subscription_id"], now, "payment_refunded")
        if ev:
            out.events += ev
            out.revoked.append(order["subscription_id"])
    return out


def _revoke_festival_bonus(conn: sqlite3.Connection, order: sqlite3.Row, coins: int, key: str, at: str) -> int:
    """The festival bonus the purchase earned goes back in proportion to the coins clawed back,
    as far as the buyer still holds bonus coins (bonus already spent was burned: nothing to take)."""
    fb = (
        conn.execute(
            "SELECT base_coins, bonus_coins FROM festival_bonuses WHERE source_tx_id = ? AND source_kind = 'purchase'",
            (order["credit_tx_id"],),
        ).fetchone()
        if order["credit_tx_id"]
        else None
    )
    if fb is None or fb["base_coins"] <= 0:
        return 0
    bonus_acct = A.user_account(order["user_id"], A.BONUS)
    take = min(
        fb["bonus_coins"] * coins // fb["base_coins"], fb["bonus_coins"], max(ledger.balance(conn, bonus_acct), 0)
    )
    if take > 0:
        ledger.post(
            conn,
            f"{key}:festival-bonus",
            "festival_bonus_revoke",
            [(bonus_acct, -take), (A.BONUS_ISSUER, take)],
            at,
            {"order": order["id"], "clawback": key},
        )
    return take


def _reissue_festival_bonus(conn: sqlite3.Connection, order: sqlite3.Row, clawback_key: str, key: str, at: str) -> None:
    """A clawback undone (dispute won) gives back the festival bonus it revoked."""
    bonus_acct = A.user_account(order["user_id"], A.BONUS)
    taken = -(
        conn.execute(
            "SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id "
            "WHERE t.key = ? AND e.account_id = ?",
            (f"{clawback_key}:festival-bonus", bonus_acct),
        ).fetchone()[0]
    )
    if taken > 0 and not ledger.tx_exists(conn, f"{key}:festival-bonus"):
        ledger.post(
            conn,
            f"{key}:festival-bonus",
            "festival_bonus_restore",
            [(A.BONUS_ISSUER, -taken), (bonus_acct, taken)],
            at,
            {"order": order["id"], "clawback": clawback_key},
        )


def recredit(
    conn: sqlite3.Connection, order: sqlite3.Row, clawback_key: str, key: str, reason: str, now: datetime
) -> int:
    """Give back what one clawback took (a dispute won). Returns coins re-credited (0 if done/none)."""
    row = conn.execute("SELECT coins FROM payment_clawbacks WHERE key = ?", (clawback_key,)).fetchone()
    if row is None or row["coins"] <= 0 or ledger.tx_exists(conn, key):
        return 0
    coins = row["coins"]
    at = iso(now)
    ledger.post(
        conn,
        key,
        "refund_reversed",
        [(A.CLAWBACK, -coins), (A.user_account(order["user_id"], A.PAID), coins)],
        at,
        {"order": order["id"], "reason": reason, "clawback": clawback_key},
    )
    conn.execute(
        "INSERT INTO payment_clawbacks(key, order_id, coins, reason, created_at) VALUES (?,?,?,?,?)",
        (key, order["id"], -coins, reason, at),
    )
    conn.execute(
        "UPDATE payment_orders SET clawed_coins = clawed_coins - ?, updated_at = ? WHERE id = ?",
        (coins, at, order["id"]),
    )
    restore_earnings(conn, order, clawback_key, f"{key}:earnings", now)
    _reissue_festival_bonus(conn, order, clawback_key, key, at)
    return coins


def restore_earnings(conn: sqlite3.Connection, order: sqlite3.Row, clawback_key: str, key: str, now: datetime) -> int:
    """Give hosts back the held earnings one clawback reversed (the clawback was undone). The
    coins come from the buyer's paid balance, which the reversal had credited. Returns coins."""
    if ledger.tx_exists(conn, key):
        return 0
    paid = A.user_account(order["user_id"], A.PAID)
    legs: dict[str, int] = {}
    restored: list[dict[str, Any]] = []
    for t in conn.execute(
        "SELECT t.hold_id, t.earnings_taken, h.user_id, h.released_at FROM payment_clawback_traces t "
        "JOIN earnings_holds h ON h.id = t.hold_id WHERE t.clawback_key = ? AND t.earnings_taken > 0",
        (clawback_key,),
    ).fetchall():
        taken = t["earnings_taken"]
        if t["released_at"] is None:
            conn.execute("UPDATE earnings_holds SET remaining = remaining + ? WHERE id = ?", (taken, t["hold_id"]))
            bucket = A.HELD
        else:
            bucket = A.EARNINGS
        acct = A.user_account(t["user_id"], bucket)
        legs[acct] = legs.get(acct, 0) + taken
        legs[paid] = legs.get(paid, 0) - taken
        W.record_earning(conn, t["user_id"], taken)
        restored.append({"hold": t["hold_id"], "host": t["user_id"], "coins": taken, "to": bucket})
    if not restored:
        return 0
    ledger.post(
        conn,
        key,
        "refund_reversed",
        list(legs.items()),
        iso(now),
        {"order": order["id"], "clawback": clawback_key, "restored": restored},
    )
    return sum(r["coins"] for r in restored)
