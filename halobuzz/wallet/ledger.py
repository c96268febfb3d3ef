"""The double-entry ledger: the only way coins move.

`post()` writes one ledger transaction: its legs sum to zero, account balances
(the cache) change in the same SQLite transaction, and every entry extends the
hash chain. It must be called inside a write unit (the writer's transaction).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable

import msgspec

from ..errors import Conflict

GENESIS = "0" * 64


class DuplicateTransaction(Conflict):
    code = "duplicate_transaction"


@dataclass(frozen=True)
class Posted:
    tx_id: int
    key: str


def entry_hash(
    prev: str, entry_id: int, tx_id: int, account: str, amount: int, key: str, at: str, kind: str, memo: str | None
) -> str:
    """Covers everything a person reads about a movement: who, how much, when, what kind, why."""
    payload = f"{prev}|{entry_id}|{tx_id}|{account}|{amount}|{key}|{at}|{kind}|{memo or ''}"
    return hashlib.sha256(payload.encode()).hexdigest()


def post(
    conn: sqlite3.Connection,
    key: str,
    kind: str,
    legs: Iterable[tuple[str, int]],
    at: str,
    memo: dict[str, Any] | None = None,
) -> Posted:
    legs = [(acct, int(amount)) for acct, amount in legs if amount]
    if not legs:
        raise ValueError("a ledger transaction needs at least one non-zero leg")
    if sum(a for _, a in legs) != 0:
        raise ValueError(f"ledger legs must sum to zero: {legs}")
    try:
        memo_text = msgspec.json.encode(memo).decode() if memo else None
        tx_id = conn.execute(
            "INSERT INTO ledger_tx(key, kind, created_at, memo) VALUES (?,?,?,?)", (key, kind, at, memo_text)
        ).lastrowid
        assert tx_id is not None  # an INSERT always sets lastrowid
    except sqlite3.IntegrityError:
        raise DuplicateTransaction(f"ledger transaction {key!r} already exists") from None
    last = conn.execute("SELECT id, hash FROM ledger_entries ORDER BY id DESC LIMIT 1").fetchone()
    prev, next_id = (last[1], last[0] + 1) if last else (GENESIS, 1)
    entries = []
    for account, amount in legs:
        h = entry_hash(prev, next_id, tx_id, account, amount, key, at, kind, memo_text)
        entries.append((next_id, tx_id, account, amount, prev, h))
        prev, next_id = h, next_id + 1
    # Triggers (migration 0006) open missing accounts and move their balances per entry.
    conn.executemany(
        "INSERT INTO ledger_entries(id, tx_id, account_id, amount, prev_hash, hash) VALUES (?,?,?,?,?,?)", entries
    )
    return Posted(tx_id, key)


def balances_of(conn: sqlite3.Connection, user_id: str) -> tuple[int, int]:
    """(paid, bonus) in one statement: the spend path's hottest read."""
    row = conn.execute(
        "SELECT (SELECT balance FROM ledger_accounts WHERE id = ?1 || ':paid'), "
        "(SELECT balance FROM ledger_accounts WHERE id = ?1 || ':bonus')",
        (user_id,),
    ).fetchone()
    return row[0] or 0, row[1] or 0


def balance(conn: sqlite3.Connection, account: str) -> int:
    row = conn.execute("SELECT balance FROM ledger_accounts WHERE id = ?", (account,)).fetchone()
    return row[0] if row else 0


def tx_exists(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT id FROM ledger_tx WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


# -- verification (doctor, `halobuzz ledger verify`) -----------------------------------


def verify_chain(conn: sqlite3.Connection, limit_problems: int = 20) -> list[str]:
    """Recompute every entry's hash in order; report the first breaks."""
    problems: list[str] = []
    prev = GENESIS
    expected_id = None
    cur = conn.execute(
        "SELECT e.id, e.tx_id, e.account_id, e.amount, e.prev_hash, e.hash, t.key, t.created_at, "
        "t.kind, t.memo "
        "FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id ORDER BY e.id"
    )
    for r in cur:
        if expected_id is not None and r["id"] != expected_id:
            problems.append(f"entry ids jump from {expected_id - 1} to {r['id']} (deleted entries)")
        if r["prev_hash"] != prev:
            problems.append(f"entry {r['id']}: previous-hash link broken")
        h = entry_hash(
            r["prev_hash"],
            r["id"],
            r["tx_id"],
            r["account_id"],
            r["amount"],
            r["key"],
            r["created_at"],
            r["kind"],
            r["memo"],
        )
        if h != r["hash"]:
            problems.append(f"entry {r['id']}: content does not match its hash (edited)")
        prev, expected_id = r["hash"], r["id"] + 1
        if len(problems) >= limit_problems:
            break
    return problems


def verify_balances(conn: sqlite3.Connection) -> list[str]:
    problems = []
    for r in conn.execute(
        "SELECT a.id, a.balance, COALESCE(s.total, 0) AS total FROM ledger_accounts a "
        "LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_entries GROUP BY account_id) s "
        "ON s.account_id = a.id WHERE a.balance <> COALESCE(s.total, 0)"
    ):
        problems.append(f"account {r['id']}: balance {r['balance']} but ledger sum {r['total']}")
    for r in conn.execute("SELECT tx_id, SUM(amount) AS s FROM ledger_entries GROUP BY tx_id HAVING s <> 0 LIMIT 20"):
        problems.append(f"transaction {r['tx_id']} does not sum to zero ({r['s']})")
    total = conn.execute("SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts").fetchone()[0]
    if total != 0:
        problems.append(f"all balances sum to {total}, not 0")
    return problems
