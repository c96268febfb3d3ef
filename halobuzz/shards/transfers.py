"""Cross-shard gifts as write units (plain functions of a sqlite3 connection).

Origin shard A (the viewer's home):
  send      viewer paid/bonus -> sys:transit:<B>; transfer row 'pending'; a signed `gift`
            message in the outbox. One transaction.
  expire    a transfer past its deadline becomes 'cancelling' and a signed `cancel` goes out.
            A never refunds on its own: only B knows whether it credited, so A waits for B's word.
  settle    B's receipt: 'credited' -> transit to sys:shard_export:<B> (bonus part burned);
            'refused' -> transit back to the viewer. Once per transfer; repeats change nothing.

Destination shard B (the stream's host):
  receive   `gift`: credit the host (sys:shard_import:<A> -> host held + platform fee) or refuse;
            `cancel`: refuse if nothing was decided yet. The first decision per transfer id is
            final (shard_transfers_in + the ledger key); every message gets a receipt back
            through B's outbox.

So each shard's ledger still sums to zero, sys:transit:<B> on A is exactly the coins of its
open transfers, and sys:shard_export:<B> on A mirrors sys:shard_import:<A> on B.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ..accounts import users
from ..errors import Conflict, Forbidden, Invalid
from ..events import GIFT_SENT, WALLET_CHANGED, Event
from ..gifts import catalog
from ..gifts.send import MAX_QUANTITY, GiftPolicy, _throne, platform_fee
from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger, wallet
from . import messages as M
from . import visitors
from .messages import Signer

PENDING, CANCELLING, CREDITED, REFUSED = "pending", "cancelling", "credited", "refused"


def transit_account(dest: str) -> str:
    return f"sys:transit:{dest}"


def export_account(dest: str) -> str:
    return f"sys:shard_export:{dest}"


def import_account(origin: str) -> str:
    return f"sys:shard_import:{origin}"


@dataclass
class Outcome:
    response: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    queued: int = 0  # outbox rows written (the publisher is poked when > 0)


def _enqueue(conn: sqlite3.Connection, msg_id: str, subject: str, payload: str, at: str) -> int:
    return conn.execute(
        "INSERT OR IGNORE INTO shard_outbox(msg_id, subject, payload, created_at) VALUES (?,?,?,?)",
        (msg_id, subject, payload, at),
    ).rowcount


# -- origin side ---------------------------------------------------------------------------


def send(
    conn: sqlite3.Connection,
    *,
    signer: Signer,
    dest: str,
    dest_subject: str,
    transfer_id: str,
    sender_id: str,
    stream_id: str,
    gift_id: str,
    quantity: int,
    key: str,
    spend: wallet.SpendPolicy,
    now: datetime,
    deadline: datetime,
) -> Outcome:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    if dest == signer.shard:
        raise Invalid("this stream is on this shard: send the gift to the stream directly", field="shard")
    gift = catalog.get(conn, gift_id)  # NotFound names giftId
    if not catalog.available_now(gift, now):
        raise Conflict("this gift is not available now", code="gift_unavailable", field="giftId")
    sender = conn.execute("SELECT * FROM users WHERE id = ?", (sender_id,)).fetchone()
    if gift["og_min_level"]:
        expires = parse_iso(sender["og_expires_at"])
        if sender["og_level"] < gift["og_min_level"] or expires is None or expires <= now:
            raise Forbidden(f"this gift needs OG tier {gift['og_min_level']}", code="og_required", field="giftId")
    total = gift["price"] * quantity
    debit = wallet.plan_spend(conn, sender, total, now, spend)
    at = iso(now)
    ledger.post(
        conn,
        f"xgift:{sender_id}:{key}",
        "gift_out",
        [
            (A.user_account(sender_id, A.PAID), -debit.paid),
            (A.user_account(sender_id, A.BONUS), -debit.bonus),
            (transit_account(dest), debit.total),
        ],
        at,
        {"transfer": transfer_id, "shard": dest, "stream": stream_id, "gift": gift_id, "quantity": quantity},
    )
    wallet.record_spend(conn, sender_id, total, now.date().isoformat())
    conn.execute(
        "INSERT INTO shard_transfers_out(id, sender_id, dest_shard, stream_id, gift_id, quantity, coins, "
        "paid, bonus, status, created_at, deadline) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            transfer_id,
            sender_id,
            dest,
            stream_id,
            gift_id,
            quantity,
            total,
            debit.paid,
            debit.bonus,
            PENDING,
            at,
            iso(deadline),
        ),
    )
    payload = signer.sign(
        M.GIFT,
        dest,
        {
            "id": transfer_id,
            "stream": stream_id,
            "gift": gift_id,
            "quantity": quantity,
            "coins": total,
            "paid": debit.paid,
            "bonus": debit.bonus,
            "deadline": iso(deadline),
            "at": at,
            "sender": {
                "id": sender_id,
                "username": sender["username"],
                "ogLevel": sender["og_level"],
                "country": sender["country"],
                "adult": users.age_on(date.fromisoformat(sender["birth_date"]), now.date()) >= 18,
            },
        },
    )
    queued = _enqueue(conn, f"gift:{transfer_id}", dest_subject, payload, at)
    response = {
        "transferId": transfer_id,
        "shard": dest,
        "status": PENDING,
        "streamId": stream_id,
        "giftId": gift_id,
        "quantity": quantity,
        "coins": total,
        "paidCoins": debit.paid,
        "bonusCoins": debit.bonus,
        "wallet": {"balance": debit.paid_before - debit.paid, "bonusBalance": debit.bonus_before - debit.bonus},
    }
    return Outcome(response, [Event(WALLET_CHANGED, {"userId": sender_id}, users=(sender_id,))], queued)


def expire(
    conn: sqlite3.Connection, *, signer: Signer, subjects: dict[str, str], now: datetime, limit: int = 200
) -> Outcome:
    """Ask the destination to cancel transfers past their deadline (it answers credited or refused)."""
    rows = conn.execute(
        "SELECT id, dest_shard FROM shard_transfers_out WHERE status = 'pending' AND deadline < ? "
        "ORDER BY deadline LIMIT ?",
        (iso(now), limit),
    ).fetchall()
    out = Outcome()
    at = iso(now)
    for r in rows:
        subject = subjects.get(r["dest_shard"])
        if subject is None:  # the shard left the map: its transfers wait for an operator
            continue
        conn.execute("UPDATE shard_transfers_out SET status = ? WHERE id = ?", (CANCELLING, r["id"]))
        out.queued += _enqueue(
            conn, f"cancel:{r['id']}", subject, signer.sign(M.CANCEL, r["dest_shard"], {"id": r["id"], "at": at}), at
        )
    out.response = {"cancelling": len(rows)}
    return out


def settle(conn: sqlite3.Connection, receipt: dict[str, Any], now: datetime) -> Outcome:
    """Apply a verified receipt from the destination shard. Idempotent."""
    t = conn.execute("SELECT * FROM shard_transfers_out WHERE id = ?", (receipt["id"],)).fetchone()
    if t is None or t["dest_shard"] != receipt["from"]:
        return Outcome({"ignored": "unknown transfer"})
    if t["status"] in (CREDITED, REFUSED):
        return Outcome({"ignored": "already settled", "status": t["status"]})
    at = iso(now)
    amount = t["paid"] + t["bonus"]
    if receipt["status"] == CREDITED:
        ledger.post(
            conn,
            f"xgift-settle:{t['id']}",
            "gift_out_settle",
            [
                (transit_account(t["dest_shard"]), -amount),
                (A.BONUS_BURN, t["bonus"]),
                (export_account(t["dest_shard"]), t["paid"]),
            ],
            at,
            {"transfer": t["id"], "shard": t["dest_shard"]},
        )
        status = CREDITED
    elif receipt["status"] == REFUSED:
        ledger.post(
            conn,
            f"xgift-refund:{t['id']}",
            "gift_out_refund",
            [
                (transit_account(t["dest_shard"]), -amount),
                (A.user_account(t["sender_id"], A.PAID), t["paid"]),
                (A.user_account(t["sender_id"], A.BONUS), t["bonus"]),
            ],
            at,
            {"transfer": t["id"], "shard": t["dest_shard"], "reason": receipt.get("reason")},
        )
        conn.execute(
            "UPDATE wallet_stats SET total_spent = MAX(total_spent - ?, 0) WHERE user_id = ?",
            (t["coins"], t["sender_id"]),
        )
        status = REFUSED
    else:
        return Outcome({"ignored": f"unknown receipt status {receipt['status']!r}"})
    conn.execute(
        "UPDATE shard_transfers_out SET status = ?, settled_at = ?, reason = ? WHERE id = ?",
        (status, at, receipt.get("reason"), t["id"]),
    )
    return Outcome(
        {"id": t["id"], "status": status}, [Event(WALLET_CHANGED, {"userId": t["sender_id"]}, users=(t["sender_id"],))]
    )


# -- destination side ----------------------------------------------------------------------


def receive(
    conn: sqlite3.Connection,
    msg: dict[str, Any],
    *,
    signer: Signer,
    reply_subject: str,
    policy: GiftPolicy,
    now: datetime,
) -> Outcome:
    """Decide a verified `gift` or `cancel` from another shard, once; always answer with a receipt."""
    origin, transfer_id = msg["from"], msg["id"]
    at = iso(now)
    decided = conn.execute("SELECT status, reason FROM shard_transfers_in WHERE id = ?", (transfer_id,)).fetchone()
    if decided is not None:
        # A repeat (redelivery, duplicate, or a cancel after we decided): the same answer again.
        out = Outcome({"id": transfer_id, "status": decided["status"], "repeat": True})
        out.queued = _enqueue(
            conn,
            f"receipt:{transfer_id}:{msg['typ']}",
            reply_subject,
            signer.sign(
                M.RECEIPT,
                origin,
                {"id": transfer_id, "status": decided["status"], "reason": decided["reason"], "at": at},
            ),
            at,
        )
        return out
    if msg["typ"] == M.CANCEL:
        return _decide_refused(conn, msg, "cancelled by the sender's shard", signer, reply_subject, at)
    reason = _refusal(conn, msg, now)
    if reason:
        return _decide_refused(conn, msg, reason, signer, reply_subject, at)
    return _credit(conn, msg, signer, reply_subject, policy, now)


def _refusal(conn: sqlite3.Connection, msg: dict[str, Any], now: datetime) -> str | None:
    deadline = parse_iso(msg.get("deadline"))
    if deadline is None or now > deadline:
        return "arrived after its deadline"
    paid, bonus, coins = msg.get("paid"), msg.get("bonus"), msg.get("coins")
    if not all(isinstance(v, int) and v >= 0 for v in (paid, bonus, coins)) or paid + bonus != coins or coins == 0:
        return "malformed amounts"
    stream = conn.execute("SELECT host_id, status FROM streams WHERE id = ?", (msg["stream"],)).fetchone()
    if stream is None:
        return "no such stream on this shard"
    if stream["status"] != "live":
        return f"the stream is {stream['status']}, not live"
    if not conn.execute("SELECT 1 FROM gifts WHERE id = ?", (msg.get("gift"),)).fetchone():
        return "unknown gift"
    return None


def _decide_refused(conn, msg, reason, signer, reply_subject, at) -> Outcome:
    sender = msg.get("sender") or {}
    conn.execute(
        "INSERT INTO shard_transfers_in(id, origin_shard, stream_id, host_id, sender_id, paid, status, "
        "reason, decided_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            msg["id"],
            msg["from"],
            msg.get("stream", ""),
            None,
            visitors.visitor_id(msg["from"], str(sender.get("id", ""))),
            int(msg.get("paid") or 0) if isinstance(msg.get("paid"), int) else 0,
            REFUSED,
            reason,
            at,
        ),
    )
    queued = _enqueue(
        conn,
        f"receipt:{msg['id']}",
        reply_subject,
        signer.sign(M.RECEIPT, msg["from"], {"id": msg["id"], "status": REFUSED, "reason": reason, "at": at}),
        at,
    )
    return Outcome({"id": msg["id"], "status": REFUSED, "reason": reason}, [], queued)


def _credit(conn, msg, signer, reply_subject, policy: GiftPolicy, now: datetime) -> Outcome:
    at = iso(now)
    origin, transfer_id, stream_id = msg["from"], msg["id"], msg["stream"]
    sender = msg.get("sender") or {}
    # The gifter is a user of another shard: their mirror row here names them on the gift boards.
    sender_id = visitors.visitor_id(origin, str(sender.get("id", "")))
    mirror = visitors.upsert(
        conn,
        origin,
        str(sender.get("id", "")),
        {
            "name": sender.get("username"),
            "og": sender.get("ogLevel"),
            "cty": sender.get("country"),
            "adult": sender.get("adult"),
        },
        now,
    )
    stream = conn.execute("SELECT host_id FROM streams WHERE id = ?", (stream_id,)).fetchone()
    host_id = stream["host_id"]
    carry_row = conn.execute("SELECT fee_carry FROM wallet_stats WHERE user_id = ?", (host_id,)).fetchone()
    fee, carry = platform_fee(msg["paid"], policy.fee_bps, carry_row[0] if carry_row else 0)
    host_share = msg["paid"] - fee
    tx_id = None
    if msg["paid"]:  # a gift paid wholly in bonus coins moves nothing here (bonus never becomes earnings)
        tx_id = ledger.post(
            conn,
            f"xgift-in:{origin}:{transfer_id}",
            "gift_in",
            [
                (import_account(origin), -msg["paid"]),
                (A.user_account(host_id, A.HELD), host_share),
                (A.PLATFORM_FEE, fee),
            ],
            at,
            {
                "transfer": transfer_id,
                "shard": origin,
                "stream": stream_id,
                "gift": msg["gift"],
                "quantity": msg["quantity"],
                "from": sender_id,
                "to": host_id,
            },
        ).tx_id
    wallet.record_earning(conn, host_id, host_share, fee_carry=carry)
    if host_share:
        wallet.hold_earnings(conn, host_id, tx_id, host_share, now + timedelta(days=policy.hold_days))
    conn.execute("UPDATE streams SET total_coins = total_coins + ? WHERE id = ?", (msg["coins"], stream_id))
    sender_total = conn.execute(
        "INSERT INTO stream_gifters(stream_id, user_id, coins, updated_at) VALUES (?,?,?,?) "
        "ON CONFLICT(stream_id, user_id) DO UPDATE SET coins = coins + excluded.coins, "
        "updated_at = excluded.updated_at RETURNING coins",
        (stream_id, sender_id, msg["coins"], at),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO shard_transfers_in(id, origin_shard, stream_id, host_id, sender_id, paid, status, "
        "reason, decided_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (transfer_id, origin, stream_id, host_id, sender_id, msg["paid"], CREDITED, None, at),
    )
    queued = _enqueue(
        conn,
        f"receipt:{transfer_id}",
        reply_subject,
        signer.sign(M.RECEIPT, origin, {"id": transfer_id, "status": CREDITED, "at": at}),
        at,
    )
    gift = conn.execute("SELECT name, animation, art FROM gifts WHERE id = ?", (msg["gift"],)).fetchone()
    events = [
        Event(
            GIFT_SENT,
            {
                "streamId": stream_id,
                "giftId": msg["gift"],
                "giftName": gift["name"],
                "quantity": msg["quantity"],
                "coins": msg["coins"],
                "paidCoins": msg["paid"],
                "bonusCoins": msg["bonus"],
                "hostEarned": host_share,
                "senderId": sender_id,
                "senderName": mirror["username"],
                "senderOgLevel": int(sender.get("ogLevel") or 0),
                "senderShard": origin,
                "hostId": host_id,
                "combo": msg["quantity"],
                "animation": gift["animation"],
                "art": "/assets/" + gift["art"],
                "txId": tx_id,
                "ts": at,
            },
            room=stream_id,
        )
    ]
    throne = _throne(conn, stream_id, sender_id, mirror["username"], sender_total, at)
    if throne:
        events.append(throne)
    return Outcome({"id": transfer_id, "status": CREDITED, "hostEarned": host_share}, events, queued)


# -- outbox and reconciliation (reads) -----------------------------------------------------


def unsent(conn: sqlite3.Connection, limit: int = 100) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT id, msg_id, subject, payload FROM shard_outbox WHERE published_at IS NULL ORDER BY id LIMIT ?", (limit,)
    ).fetchall()


def mark_sent(conn: sqlite3.Connection, ids: list[int], at: str) -> None:
    conn.executemany(
        "UPDATE shard_outbox SET published_at = ?, attempts = attempts + 1 WHERE id = ?", [(at, i) for i in ids]
    )


def reconcile(conn: sqlite3.Connection) -> dict[str, Any]:
    """Per peer: transit balance vs the coins of open transfers (they must be equal: zero when none
    is open), export/import totals, and every transfer still in flight."""
    peers: dict[str, dict[str, Any]] = {}

    def peer(name: str) -> dict[str, Any]:
        return peers.setdefault(name, {"transit": 0, "openCoins": 0, "open": 0, "exported": 0, "imported": 0})

    for r in conn.execute(
        "SELECT id, balance FROM ledger_accounts WHERE id LIKE 'sys:transit:%' "
        "OR id LIKE 'sys:shard_export:%' OR id LIKE 'sys:shard_import:%'"
    ):
        kind, name = r["id"].split(":", 2)[1:]
        field_name = {"transit": "transit", "shard_export": "exported", "shard_import": "imported"}[kind]
        # import accounts go negative as coins arrive: report the amount that came in
        peer(name)[field_name] = -r["balance"] if kind == "shard_import" else r["balance"]
    in_flight = []
    for r in conn.execute(
        "SELECT id, sender_id, dest_shard, stream_id, paid, bonus, status, created_at, deadline "
        "FROM shard_transfers_out WHERE status IN ('pending','cancelling') ORDER BY created_at"
    ):
        p = peer(r["dest_shard"])
        p["openCoins"] += r["paid"] + r["bonus"]
        p["open"] += 1
        in_flight.append(
            {
                "id": r["id"],
                "shard": r["dest_shard"],
                "senderId": r["sender_id"],
                "streamId": r["stream_id"],
                "coins": r["paid"] + r["bonus"],
                "status": r["status"],
                "createdAt": r["created_at"],
                "deadline": r["deadline"],
            }
        )
    problems = [
        f"sys:transit:{name} holds {p['transit']} but open transfers to {name} hold {p['openCoins']}"
        for name, p in sorted(peers.items())
        if p["transit"] != p["openCoins"]
    ]
    unsent_count = conn.execute("SELECT COUNT(*) FROM shard_outbox WHERE published_at IS NULL").fetchone()[0]
    return {
        "ok": not problems,
        "problems": problems,
        "peers": peers,
        "inFlight": in_flight,
        "outboxUnsent": unsent_count,
    }


def transit_problems(conn: sqlite3.Connection) -> list[str]:
    """Doctor check: every sys:transit:<peer> equals the coins of its open transfers."""
    return reconcile(conn)["problems"]
