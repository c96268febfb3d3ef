"""Coins of a round: stakes into the round's escrow account, then one settlement or one refund.

Accounts: `sys:game_escrow:<round>` holds a round's stakes until it ends (0 afterwards);
`sys:game_pool` (wallet.accounts.GAME_POOL) is the house: it matches a player's stake when
the AI plays, takes the house share and keeps what the AI wins. Stakes come from the
player's paid coins only: bonus coins are never staked (they would turn into paid winnings).

Keys make every movement happen once: `game-stake:<round>:<entry>`,
`game-settle:<round>`, `game-refund:<round>`, `game-match:<round>`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Iterable

from ..infra.clock import iso
from ..wallet import accounts as A
from ..wallet import ledger, wallet
from . import compliance

HOUSE = A.GAME_POOL


def escrow_account(round_id: str) -> str:
    return f"sys:game_escrow:{round_id}"


def stake(
    conn: sqlite3.Connection,
    user: sqlite3.Row,
    round_id: str,
    entry_no: int,
    amount: int,
    now: datetime,
    spend: wallet.SpendPolicy,
    game: str,
) -> int:
    """Move `amount` paid coins from the player into escrow (balance and daily spend cap checked)."""
    wallet.plan_spend(conn, user, amount, now, spend, allow_bonus=False)
    posted = ledger.post(
        conn,
        f"game-stake:{round_id}:{entry_no}",
        "game_stake",
        [(A.user_account(user["id"], A.PAID), -amount), (escrow_account(round_id), amount)],
        iso(now),
        {"round": round_id, "game": game, "entry": entry_no},
    )
    wallet.record_spend(conn, user["id"], amount, now.date().isoformat())
    compliance.record_daily(conn, user["id"], now.date().isoformat(), staked=amount)
    return posted.tx_id


def stake_many(
    conn: sqlite3.Connection,
    user: sqlite3.Row,
    round_id: str,
    first_entry: int,
    count: int,
    price: int,
    now: datetime,
    spend: wallet.SpendPolicy,
    game: str,
) -> int:
    """Several tickets bought at once: one ledger transaction per ticket (each refundable alone)."""
    total = price * count
    wallet.plan_spend(conn, user, total, now, spend, allow_bonus=False)
    at = iso(now)
    for i in range(first_entry, first_entry + count):
        ledger.post(
            conn,
            f"game-stake:{round_id}:{i}",
            "game_stake",
            [(A.user_account(user["id"], A.PAID), -price), (escrow_account(round_id), price)],
            at,
            {"round": round_id, "game": game, "entry": i},
        )
    wallet.record_spend(conn, user["id"], total, now.date().isoformat())
    compliance.record_daily(conn, user["id"], now.date().isoformat(), staked=total)
    return total


def house_match(conn: sqlite3.Connection, round_id: str, amount: int, now: datetime) -> None:
    """The AI's side of a contest against the house goes into escrow too, so the pot is whole."""
    ledger.post(
        conn,
        f"game-match:{round_id}",
        "game_house_match",
        [(HOUSE, -amount), (escrow_account(round_id), amount)],
        iso(now),
        {"round": round_id},
    )


def held(conn: sqlite3.Connection, round_id: str) -> int:
    return ledger.balance(conn, escrow_account(round_id))


def settle(conn: sqlite3.Connection, round_id: str, payouts: dict[str, int], now: datetime, game: str) -> int:
    """Pay winners from escrow; everything else in escrow (house share, AI wins, rounding) goes to
    the house, all in ONE transaction that empties the escrow. Returns the house's take."""
    pot = held(conn, round_id)
    paid = sum(payouts.values())
    if paid > pot or any(v < 0 for v in payouts.values()):
        raise ValueError(f"round {round_id}: payouts {paid} exceed the escrow {pot}")
    house = pot - paid
    legs = [(escrow_account(round_id), -pot), (HOUSE, house)]
    legs += [(A.user_account(uid, A.PAID), amount) for uid, amount in sorted(payouts.items())]
    if pot:
        ledger.post(
            conn,
            f"game-settle:{round_id}",
            "game_settle",
            legs,
            iso(now),
            {"round": round_id, "game": game, "house": house},
        )
    day = now.date().isoformat()
    for uid, amount in payouts.items():
        if amount:
            compliance.record_daily(conn, uid, day, won=amount)
    return house


def refund(
    conn: sqlite3.Connection, round_id: str, stakes: Iterable[tuple[str, int]], now: datetime, game: str, reason: str
) -> int:
    """Every stake back to its player and any house match back to the house, in one transaction."""
    per_user: dict[str, int] = {}
    for uid, amount in stakes:
        per_user[uid] = per_user.get(uid, 0) + amount
    pot = held(conn, round_id)
    back = sum(per_user.values())
    matched = pot - back
    if matched < 0:
        raise ValueError(f"round {round_id}: escrow {pot} is less than the stakes {back}")
    legs = [(escrow_account(round_id), -pot), (HOUSE, matched)]
    legs += [(A.user_account(uid, A.PAID), amount) for uid, amount in sorted(per_user.items())]
    if pot:
        ledger.post(
            conn,
            f"game-refund:{round_id}",
            "game_refund",
            legs,
            iso(now),
            {"round": round_id, "game": game, "reason": reason},
        )
    day = now.date().isoformat()
    for uid, amount in per_user.items():
        compliance.record_daily(conn, uid, day, won=amount)
    return back
