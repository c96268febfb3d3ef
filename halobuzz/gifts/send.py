"""Sending a gift: one write unit that checks every rule and moves the coins.

Inside one transaction: the stream must be live, the sender may not gift their
own stream, OG-exclusive gifts need the tier, coins are debited (bonus first),
the host is credited the paid part minus the platform fee into *held* earnings,
bonus coins are burned, the stream's totalCoins and gifter board move, and the
Halo Throne changes hands if the top gifter changed. The events to publish are
returned, to be sent after COMMIT.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import GIFT_SENT, THRONE_CLAIMED, Event
from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger, wallet
from . import catalog

MAX_QUANTITY = 9_999


@dataclass(frozen=True)
class GiftPolicy:
    fee_bps: int
    hold_days: int
    combo_seconds: int
    spend: wallet.SpendPolicy


@dataclass
class GiftOutcome:
    response: dict[str, Any]
    events: list[Event] = field(default_factory=list)


def send_gift(
    conn: sqlite3.Connection,
    *,
    sender_id: str,
    stream_id: str,
    gift_id: str,
    quantity: int,
    key: str,
    policy: GiftPolicy,
    now: datetime,
) -> GiftOutcome:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    # One statement for the common case; the separate lookups below only name what is missing.
    row = conn.execute(
        "SELECT s.host_id, s.status, g.price, g.name AS gift_name, g.animation, g.art, g.og_min_level, g.active, "
        "g.active_from, g.active_until, "
        "(SELECT fee_carry FROM wallet_stats WHERE user_id = s.host_id) AS host_fee_carry, "
        "u.* FROM streams s, gifts g, users u WHERE s.id = ? AND g.id = ? AND u.id = ?",
        (stream_id, gift_id, sender_id),
    ).fetchone()
    if row is None:
        if not conn.execute("SELECT 1 FROM streams WHERE id = ?", (stream_id,)).fetchone():
            raise NotFound("no such stream", field="streamId")
        catalog.get(conn, gift_id)  # raises NotFound naming giftId
        raise NotFound("no such user", field="user")
    if row["status"] != "live":
        raise Conflict(f"the stream is {row['status']}, not live", code="stream_not_live", field="streamId")
    host_id = row["host_id"]
    if host_id == sender_id:
        raise Forbidden("you cannot send gifts to your own stream", code="self_gift")
    gift = row
    if not catalog.available_now(gift, now):
        raise Conflict("this gift is not available now", code="gift_unavailable", field="giftId")
    sender = row
    if gift["og_min_level"]:
        expires = parse_iso(sender["og_expires_at"])
        if sender["og_level"] < gift["og_min_level"] or expires is None or expires <= now:
            raise Forbidden(f"this gift needs OG tier {gift['og_min_level']}", code="og_required", field="giftId")
    total = gift["price"] * quantity
    debit = wallet.plan_spend(conn, sender, total, now, policy.spend)
    fee, carry = platform_fee(debit.paid, policy.fee_bps, row["host_fee_carry"] or 0)
    host_share = debit.paid - fee
    at = iso(now)
    posted = ledger.post(
        conn,
        f"gift:{sender_id}:{key}",
        "gift",
        [
            (A.user_account(sender_id, A.PAID), -debit.paid),
            (A.user_account(sender_id, A.BONUS), -debit.bonus),
            (A.BONUS_BURN, debit.bonus),
            (A.user_account(host_id, A.HELD), host_share),
            (A.PLATFORM_FEE, fee),
        ],
        at,
        {"stream": stream_id, "gift": gift_id, "quantity": quantity, "from": sender_id, "to": host_id},
    )
    wallet.record_spend(conn, sender_id, total, now.date().isoformat())
    wallet.record_earning(conn, host_id, host_share, fee_carry=carry)
    if host_share:
        wallet.hold_earnings(conn, host_id, posted.tx_id, host_share, now + timedelta(days=policy.hold_days))
    conn.execute("UPDATE streams SET total_coins = total_coins + ? WHERE id = ?", (total, stream_id))
    combo = _combo(conn, stream_id, sender_id, gift_id, quantity, now, policy.combo_seconds)
    sender_total = conn.execute(
        "INSERT INTO stream_gifters(stream_id, user_id, coins, updated_at) VALUES (?,?,?,?) "
        "ON CONFLICT(stream_id, user_id) DO UPDATE SET coins = coins + excluded.coins, updated_at = excluded.updated_at "
        "RETURNING coins",
        (stream_id, sender_id, total, at),
    ).fetchone()[0]
    events = [
        Event(
            GIFT_SENT,
            {
                "streamId": stream_id,
                "giftId": gift_id,
                "giftName": gift["gift_name"],
                "quantity": quantity,
                "coins": total,
                "paidCoins": debit.paid,
                "bonusCoins": debit.bonus,
                "hostEarned": host_share,
                "senderId": sender_id,
                "senderName": sender["username"],
                "senderOgLevel": sender["og_level"],
                "hostId": host_id,
                "combo": combo,
                "animation": gift["animation"],
                "art": "/assets/" + gift["art"],
                "txId": posted.tx_id,
                "ts": at,
            },
            room=stream_id,
        )
    ]
    throne = _throne(conn, stream_id, sender_id, sender["username"], sender_total, at)
    if throne:
        events.append(throne)
    response = {
        "txId": posted.tx_id,
        "streamId": stream_id,
        "giftId": gift_id,
        "quantity": quantity,
        "coins": total,
        "paidCoins": debit.paid,
        "bonusCoins": debit.bonus,
        "combo": combo,
        "wallet": {"balance": debit.paid_before - debit.paid, "bonusBalance": debit.bonus_before - debit.bonus},
    }
    return GiftOutcome(response, events)


def platform_fee(paid: int, fee_bps: int, carry: int) -> tuple[int, int]:
    """The fee in whole coins and the remainder to carry, in 1/10000 coin.

    Each host carries the fraction of a coin its gifts have not yet paid in fee, so over
    any run of gifts the platform takes exactly fee_bps of the paid part (within one coin):
    single 1-coin roses neither escape the fee nor pay 100 % of it.
    """
    exact = paid * fee_bps + carry
    return exact // 10_000, exact % 10_000


def _combo(
    conn: sqlite3.Connection, stream_id: str, sender_id: str, gift_id: str, quantity: int, now: datetime, window: int
) -> int:
    """Same gift from the same sender within `window` seconds continues the combo."""
    ts = now.timestamp()
    return conn.execute(
        "INSERT INTO gift_combos(stream_id, sender_id, gift_id, count, last_at) VALUES (?1,?2,?3,?4,?5) "
        "ON CONFLICT(stream_id, sender_id) DO UPDATE SET "
        "count = CASE WHEN gift_id = excluded.gift_id AND ?5 - last_at <= ?6 THEN count + ?4 ELSE ?4 END, "
        "gift_id = excluded.gift_id, last_at = excluded.last_at RETURNING count",
        (stream_id, sender_id, gift_id, quantity, ts, window),
    ).fetchone()[0]


def _throne(
    conn: sqlite3.Connection, stream_id: str, sender_id: str, username: str, sender_total: int, at: str
) -> Event | None:
    """The throne goes to whoever has gifted the most in this stream; ties keep the holder."""
    holder = conn.execute("SELECT user_id, coins FROM stream_throne WHERE stream_id = ?", (stream_id,)).fetchone()
    if holder and holder["user_id"] == sender_id:
        conn.execute("UPDATE stream_throne SET coins = ? WHERE stream_id = ?", (sender_total, stream_id))
        return None
    if holder and sender_total <= holder["coins"]:
        return None
    conn.execute(
        "INSERT INTO stream_throne(stream_id, user_id, coins, claimed_at) VALUES (?,?,?,?) "
        "ON CONFLICT(stream_id) DO UPDATE SET user_id = excluded.user_id, coins = excluded.coins, "
        "claimed_at = excluded.claimed_at",
        (stream_id, sender_id, sender_total, at),
    )
    return Event(
        THRONE_CLAIMED,
        {
            "streamId": stream_id,
            "userId": sender_id,
            "username": username,
            "coins": sender_total,
            "previousUserId": holder["user_id"] if holder else None,
            "ts": at,
        },
        room=stream_id,
    )


def leaderboard(conn: sqlite3.Connection, stream_id: str, limit: int = 20) -> list[dict[str, Any]]:
    # Ties rank the throne holder first (the throne stays with its holder on a tie), then
    # whoever reached the total first.
    rows = conn.execute(
        "SELECT g.user_id, g.coins, u.username, u.og_level FROM stream_gifters g JOIN users u "
        "ON u.id = g.user_id LEFT JOIN stream_throne t ON t.stream_id = g.stream_id "
        "WHERE g.stream_id = ? ORDER BY g.coins DESC, g.user_id = t.user_id DESC, g.updated_at "
        "LIMIT ?",
        (stream_id, limit),
    ).fetchall()
    return [
        {
            "rank": i + 1,
            "userId": r["user_id"],
            "username": r["username"],
            "coins": r["coins"],
            "ogLevel": r["og_level"],
        }
        for i, r in enumerate(rows)
    ]
