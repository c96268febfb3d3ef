"""Order rows and the encrypted gateway event log (plain functions of a connection)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ..errors import NotFound
from ..infra.clock import iso
from ..infra.crypto import FieldCipher

# Order states that mean "the coins were credited at some point".
CREDITED = ("completed", "refunded", "partially_refunded", "disputed")
OPEN = ("created", "pending")


def get(conn: sqlite3.Connection, order_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM payment_orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        raise NotFound("no such order", field="orderId")
    return row


def find(conn: sqlite3.Connection, order_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM payment_orders WHERE id = ?", (order_id,)).fetchone()


BY_REF_SQL = "SELECT * FROM payment_orders WHERE gateway = ? AND gateway_ref = ?"
BY_TXN_SQL = "SELECT * FROM payment_orders WHERE gateway = ? AND gateway_txn = ?"


def orders_query(
    *,
    user: str | None = None,
    status: str | None = None,
    gateway: str | None = None,
    review: bool | None = None,
    before: str | None = None,
    limit: int,
) -> tuple[str, list[Any]]:
    """Orders newest first, filtered; `before` is the last id of the previous page."""
    sql, params = "SELECT * FROM payment_orders WHERE 1=1", []
    for col, val in (("status", status), ("gateway", gateway), ("user_id", user)):
        if val:
            sql += f" AND {col} = ?"
            params.append(val)
    if review is not None:
        sql += " AND needs_review = ?"
        params.append(1 if review else 0)
    if before:
        sql += " AND id < ?"
        params.append(before)
    return sql + " ORDER BY id DESC LIMIT ?", [*params, limit]


def events_query(
    *,
    gateway: str | None = None,
    verdict: str | None = None,
    order: str | None = None,
    before: int | None = None,
    limit: int,
) -> tuple[str, list[Any]]:
    """The gateway event log newest first, filtered."""
    sql, params = "SELECT * FROM payment_events WHERE 1=1", []
    for col, val in (("gateway", gateway), ("verdict", verdict), ("order_id", order)):
        if val:
            sql += f" AND {col} = ?"
            params.append(val)
    if before:
        sql += " AND id < ?"
        params.append(before)
    return sql + " ORDER BY id DESC LIMIT ?", [*params, limit]


def update(conn: sqlite3.Connection, order_id: str, now: datetime, **cols: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in cols)
    conn.execute(
        f"UPDATE payment_orders SET {sets}, updated_at = ? WHERE id = ?",  # noqa: S608 (names are ours)
        (*cols.values(), iso(now), order_id),
    )


def order_json(r: sqlite3.Row | dict, *, admin: bool = False) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "gateway": r["gateway"],
        "packId": r["pack_id"],
        "ogTier": r["og_tier"],
        "currency": r["currency"],
        "amount": r["amount_minor"],
        "coins": r["coins"],
        "status": r["status"],
        "createdAt": r["created_at"],
        "expiresAt": r["expires_at"],
        "completedAt": r["completed_at"],
        "refundedAmount": r["refunded_minor"],
        "clawedCoins": r["clawed_coins"],
    }
    if admin:
        out.update(
            {
                "userId": r["user_id"],
                "gatewayRef": r["gateway_ref"],
                "gatewayTxn": r["gateway_txn"],
                "creditTxId": r["credit_tx_id"],
                "subscriptionId": r["subscription_id"],
                "needsReview": bool(r["needs_review"]),
                "note": r["note"],
                "checkedAt": r["checked_at"],
                "checkCount": r["check_count"],
                "updatedAt": r["updated_at"],
            }
        )
    return out


def log_event(
    conn: sqlite3.Connection,
    cipher: FieldCipher,
    *,
    uid: str,
    gateway: str,
    source: str,
    raw: dict[str, Any],
    verdict: str,
    reason: str | None,
    now: datetime,
    order_id: str | None = None,
    event_id: str | None = None,
    event_type: str | None = None,
) -> int:
    """Store one raw callback/webhook (encrypted, bound to its uid) with what we made of it."""
    token = cipher.encrypt_text(json.dumps(raw, sort_keys=True), f"payment_event:{uid}")
    return conn.execute(
        "INSERT INTO payment_events(uid, gateway, source, event_id, event_type, order_id, received_at, payload, "
        "verdict, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (uid, gateway, source, event_id, event_type, order_id, iso(now), token, verdict, reason),
    ).lastrowid


def event_json(r: sqlite3.Row, cipher: FieldCipher | None = None) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "uid": r["uid"],
        "gateway": r["gateway"],
        "source": r["source"],
        "eventId": r["event_id"],
        "eventType": r["event_type"],
        "orderId": r["order_id"],
        "receivedAt": r["received_at"],
        "verdict": r["verdict"],
        "reason": r["reason"],
    }
    if cipher is not None:
        try:
            out["payload"] = json.loads(cipher.decrypt_text(r["payload"], f"payment_event:{r['uid']}"))
        except Exception:  # a rotated-away key or a tampered row: say so, don't fail the listing
            out["payload"] = None
            out["payloadError"] = "cannot decrypt"
    return out


def undecryptable_payloads(conn: sqlite3.Connection, cipher: FieldCipher, limit: int = 20) -> tuple[int, list[int]]:
    """(payloads checked, ids of those the current keys cannot decrypt, at most `limit`)."""
    bad: list[int] = []
    n = 0
    for r in conn.execute("SELECT id, uid, payload FROM payment_events WHERE payload IS NOT NULL"):
        n += 1
        try:
            cipher.decrypt_text(r["payload"], f"payment_event:{r['uid']}")
        except Exception:
            if len(bad) < limit:
                bad.append(r["id"])
            else:
                bad.append(-1)
                break
    return n, bad
