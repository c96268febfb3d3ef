"""Integrity checks run by `halobuzz doctor` (and by `upgrade --dry-run` on a copy).

A check is (name, fn(conn) -> list of problems); an empty list means healthy.
CHECKS lists every one, in the order they run: a new package adds its line here.
"""
from __future__ import annotations

import sqlite3
from typing import Callable

from .db import migrate
from .moderation.setup import models_check
from .payments.setup import open_orders_past_expiry
from .shards.transfers import transit_problems
from .wallet import ledger

Check = Callable[[sqlite3.Connection], list[str]]


def schema(conn: sqlite3.Connection) -> list[str]:
    try:
        waiting = migrate.pending(conn)
    except migrate.MigrationError as exc:
        return [str(exc)]
    return [f"{len(waiting)} migration(s) not applied: run `halobuzz migrate`"] if waiting else []


def integrity(conn: sqlite3.Connection) -> list[str]:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows[:20]


def foreign_keys(conn: sqlite3.Connection) -> list[str]:
    return [f"{r[0]} row {r[1]} points at a missing {r[2]}" for r in conn.execute("PRAGMA foreign_key_check")][:20]


CHECKS: tuple[tuple[str, Check], ...] = (
    ("schema", schema),
    ("integrity", integrity),
    ("foreign keys", foreign_keys),
    ("ledger balances", ledger.verify_balances),
    ("ledger chain", ledger.verify_chain),
    ("payments", open_orders_past_expiry),
    ("moderation models", models_check),
    ("shard transit", transit_problems),
)


def run_all(conn: sqlite3.Connection) -> list[tuple[str, list[str]]]:
    results = []
    for name, check in CHECKS:
        try:
            results.append((name, check(conn)))
        except sqlite3.Error as exc:
            results.append((name, [f"check failed: {exc}"]))
    return results
