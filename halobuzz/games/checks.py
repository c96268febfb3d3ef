"""`halobuzz doctor` checks of the games: every finished round's escrow is empty, and the
bundled compliance packs and quiz bank load."""

from __future__ import annotations

import sqlite3

from ..resources import assets_dir
from .compliance import Packs
from .quizbank import Bank

MIN_QUESTIONS = 300


def escrows_empty(conn: sqlite3.Connection) -> list[str]:
    """No coin stuck in a round or tournament that has ended."""
    rows = conn.execute(
        "SELECT a.id, a.balance FROM ledger_accounts a WHERE a.id LIKE 'sys:game_escrow:%' AND a.balance <> 0 AND "
        "(EXISTS(SELECT 1 FROM game_rounds r WHERE 'sys:game_escrow:' || r.id = a.id "
        "AND r.status IN ('settled','refunded')) OR EXISTS(SELECT 1 FROM tournaments t WHERE "
        "'sys:game_escrow:' || t.id = a.id AND t.status IN ('finished','cancelled'))) LIMIT 20"
    ).fetchall()
    return [f"{r[0]} still holds {r[1]} coins after its game ended" for r in rows]


def assets(conn: sqlite3.Connection) -> list[str]:
    problems = []
    try:
        Packs.load(assets_dir() / "compliance")
    except (ValueError, OSError) as exc:
        problems.append(f"compliance packs: {exc}")
    try:
        n = len(Bank.load(assets_dir() / "games" / "quiz").questions)
        if n < MIN_QUESTIONS:
            problems.append(f"the quiz bank has {n} questions, fewer than {MIN_QUESTIONS}")
    except (ValueError, OSError, KeyError) as exc:
        problems.append(f"quiz bank: {exc}")
    return problems
