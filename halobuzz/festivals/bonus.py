"""Festival bonuses and leaderboards, read off the ledger.

The job walks `ledger_tx` forward from a cursor (each transaction is looked at once, ever).
A gift or coin purchase committed inside an active festival's window earns its payer a bonus
in bonus coins: `paid coins x bps / 10000`, posted as its own ledger transaction
(`sys:bonus_issuer` -> `<user>:bonus`, kind `festival_bonus`, key `festival-bonus:<source tx id>`)
in the same write unit that moves the cursor. So the bonus is paid exactly once, and a crash
before the unit commits only means the next run pays it. Gifts also add to the festival's
leaderboards (coins gifted, coins received). Bonus coins are spend-only: spending them earns a
host nothing (they are burned), so a bonus never becomes withdrawable money.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..infra.clock import iso, parse_iso
from ..wallet import accounts as A
from ..wallet import ledger

BATCH = 64  # ledger transactions per write unit: a full batch of bonuses holds the writer ~50 ms
KIND = "festival_bonus"


@dataclass
class Settled:
    scanned: int = 0
    bonuses: list[dict[str, Any]] = field(default_factory=list)
    cursor: int = 0


def bonus_coins(base: int, bps: int) -> int:
    """Whole bonus coins for `base` paid coins at `bps` basis points (rounded down)."""
    return max(0, base) * max(0, bps) // 10_000


def _covering(festivals: list[sqlite3.Row], at: str) -> sqlite3.Row | None:
    for f in festivals:
        if f["starts_at"] <= at < f["ends_at"]:
            return f
    return None


def _score(conn: sqlite3.Connection, festival_id: str, user_id: str, role: str, coins: int, at: str) -> None:
    conn.execute(
        "INSERT INTO festival_scores(festival_id, user_id, role, coins, updated_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT(festival_id, role, user_id) DO UPDATE SET coins = coins + excluded.coins, "
        "updated_at = excluded.updated_at",
        (festival_id, user_id, role, coins, at),
    )


def _hourly(conn: sqlite3.Connection, tx: sqlite3.Row) -> None:
    memo = json.loads(tx["memo"] or "{}")
    sender = memo.get("from")
    spent = (
        -(
            conn.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE tx_id = ? AND account_id IN (?, ?)",
                (tx["id"], A.user_account(sender, A.PAID), A.user_account(sender, A.BONUS)),
            ).fetchone()[0]
        )
        if sender
        else 0
    )
    conn.execute(
        "INSERT INTO gift_coins_hourly(hour, gifts, coins) VALUES (?, 1, ?) ON CONFLICT(hour) DO UPDATE SET "
        "gifts = gifts + 1, coins = coins + excluded.coins",
        (tx["created_at"][:13], spent),
    )


def settle(conn: sqlite3.Connection, now: datetime, batch: int = BATCH) -> Settled:
    """One bounded step of the scan (call again while `scanned == batch`)."""
    cursor = conn.execute("SELECT tx_id FROM festival_cursor WHERE name = 'ledger'").fetchone()[0]
    rows = conn.execute(
        "SELECT id, kind, created_at, memo FROM ledger_tx WHERE id > ? ORDER BY id LIMIT ?", (cursor, batch)
    ).fetchall()
    out = Settled(len(rows), cursor=cursor)
    if not rows:
        return out
    # Ids follow commit order, timestamps the clock of each unit: take the batch's real time span.
    stamps = [r["created_at"] for r in rows]
    festivals = conn.execute(
        "SELECT * FROM festivals WHERE cancelled = 0 AND starts_at <= ? AND ends_at > ? ORDER BY starts_at, id",
        (max(stamps), min(stamps)),
    ).fetchall()
    for r in rows:
        if r["kind"] == "gift":
            _hourly(conn, r)
        if festivals and r["kind"] in ("gift", "purchase"):
            f = _covering(festivals, r["created_at"])
            if f is not None:
                b = _apply(conn, f, r, now)
                if b:
                    out.bonuses.append(b)
    out.cursor = rows[-1]["id"]
    conn.execute("UPDATE festival_cursor SET tx_id = ? WHERE name = 'ledger'", (out.cursor,))
    return out


def _apply(conn: sqlite3.Connection, f: sqlite3.Row, tx: sqlite3.Row, now: datetime) -> dict[str, Any] | None:
    legs = conn.execute("SELECT account_id, amount FROM ledger_entries WHERE tx_id = ?", (tx["id"],)).fetchall()
    if tx["kind"] == "gift":
        memo = json.loads(tx["memo"] or "{}")
        sender, host = memo.get("from"), memo.get("to")
        if not sender:
            return None
        paid = -sum(e["amount"] for e in legs if e["account_id"] == A.user_account(sender, A.PAID))
        spent = paid - sum(e["amount"] for e in legs if e["account_id"] == A.user_account(sender, A.BONUS))
        _score(conn, f["id"], sender, "gifter", spent, tx["created_at"])
        if host:
            _score(conn, f["id"], host, "host", spent, tx["created_at"])
        user, base, bps = sender, paid, f["gift_bonus_bps"]
    else:
        credited = [
            e
            for e in legs
            if e["amount"] > 0 and e["account_id"].endswith(":" + A.PAID) and not e["account_id"].startswith("sys:")
        ]
        if not credited:
            return None
        user, base, bps = credited[0]["account_id"].rsplit(":", 1)[0], credited[0]["amount"], f["purchase_bonus_bps"]
        # Coins a refund or chargeback already took back (before the scan got here) earn nothing.
        order_id = json.loads(tx["memo"] or "{}").get("order")
        clawed = conn.execute("SELECT clawed_coins FROM payment_orders WHERE id = ?", (order_id,)).fetchone()
        base -= max(0, clawed[0]) if clawed else 0
    coins = bonus_coins(base, bps)
    if not coins:
        return None
    at = iso(now)
    posted = ledger.post(
        conn,
        f"festival-bonus:{tx['id']}",
        KIND,
        [(A.BONUS_ISSUER, -coins), (A.user_account(user, A.BONUS), coins)],
        at,
        {"festival": f["id"], "source": tx["id"], "on": tx["kind"], "bps": bps},
    )
    conn.execute(
        "INSERT INTO festival_bonuses(tx_id, festival_id, source_tx_id, user_id, source_kind, base_coins, "
        "bonus_coins, at) VALUES (?,?,?,?,?,?,?,?)",
        (posted.tx_id, f["id"], tx["id"], user, tx["kind"], base, coins, at),
    )
    return {
        "festivalId": f["id"],
        "userId": user,
        "on": tx["kind"],
        "sourceTxId": tx["id"],
        "coins": coins,
        "txId": posted.tx_id,
    }


BASELINE_DAYS = 7


def uplift(conn: sqlite3.Connection, festival_id: str, now: datetime) -> dict[str, Any]:
    """Gift coins per hour during the festival (so far) over gift coins per hour in the
    BASELINE_DAYS before it started (hours come from gift_coins_hourly, filled by the scan)."""
    f = conn.execute("SELECT starts_at, ends_at FROM festivals WHERE id = ?", (festival_id,)).fetchone()
    if f is None:
        return {}
    start, end = parse_iso(f["starts_at"]), min(parse_iso(f["ends_at"]), now)
    base_from = start - timedelta(days=BASELINE_DAYS)
    during = conn.execute(
        "SELECT COALESCE(SUM(coins), 0) FROM gift_coins_hourly WHERE hour >= ? AND hour < ?",
        (iso(start)[:13], iso(end)[:13] + "~"),
    ).fetchone()[0]
    before = conn.execute(
        "SELECT COALESCE(SUM(coins), 0) FROM gift_coins_hourly WHERE hour >= ? AND hour < ?",
        (iso(base_from)[:13], iso(start)[:13]),
    ).fetchone()[0]
    hours = max(1.0, (end - start).total_seconds() / 3600.0)
    per_hour, base_per_hour = during / hours, before / (BASELINE_DAYS * 24.0)
    bonus = conn.execute(
        "SELECT COALESCE(SUM(bonus_coins), 0) FROM festival_bonuses WHERE festival_id = ?", (festival_id,)
    ).fetchone()[0]
    return {
        "festivalId": festival_id,
        "coinsPerHour": round(per_hour, 2),
        "baselineCoinsPerHour": round(base_per_hour, 2),
        "uplift": round(per_hour / base_per_hour, 3) if base_per_hour else None,
        "bonusCoins": bonus,
    }
