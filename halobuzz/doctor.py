"""Integrity checks run by `halobuzz doctor` (and by `upgrade --dry-run` on a copy).

A check is (name, fn(conn) -> list of problems); an empty list means healthy.
CHECKS lists every one, in the order they run: a new package adds its line here.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from .db import migrate
from .festivals.checks import bonuses_match_ledger
from .games import checks as games_checks
from .media.checks import replays_on_disk
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


def audit_chain(conn: sqlite3.Connection) -> list[str]:
    from .accounts import audit

    if not conn.execute("SELECT 1 FROM pragma_table_info('audit_log') WHERE name = 'hash'").fetchone():
        return []  # schema older than 0008: `schema` already reports the pending migration
    return audit.verify(conn)[2][:20]


def file_modes(conn: sqlite3.Connection) -> list[str]:
    """Warn when the data directory, database files or secrets are open to other local users."""
    import os
    import stat
    from pathlib import Path

    main = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not main:
        return []
    db = Path(main)
    paths = [db.parent, db, Path(f"{db}-wal"), Path(f"{db}-shm"), db.parent / "secrets"]
    if paths[-1].is_dir():
        paths += sorted(paths[-1].iterdir())
    out = []
    for path in paths:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            want = 0o700 if path.is_dir() else 0o600
            out.append(f"warning: {path} is mode {mode:04o}, readable by other local users (chmod {want:04o} {path})")
    return out


CHECKS: tuple[tuple[str, Check], ...] = (
    ("schema", schema),
    ("integrity", integrity),
    ("foreign keys", foreign_keys),
    ("ledger balances", ledger.verify_balances),
    ("ledger chain", ledger.verify_chain),
    ("payments", open_orders_past_expiry),
    ("moderation models", models_check),
    ("audit chain", audit_chain),
    ("file modes", file_modes),
    ("festival bonuses", bonuses_match_ledger),
    ("game escrows", games_checks.escrows_empty),
    ("game assets", games_checks.assets),
    ("media replays", replays_on_disk),
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


def stored_payloads(conn: sqlite3.Connection, settings) -> list[str]:
    """Stored gateway payloads decrypt with this data dir's field keys (a restore without the
    secrets, or a lost key, shows up here). Needs the settings, so the CLI runs it by name."""
    from . import config
    from .infra.crypto import FieldCipher
    from .payments.store import undecryptable_payloads

    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'payment_events'").fetchone():
        return []
    keys_file = config.secret_files(settings)["field-keys.json"]
    if not keys_file.exists():
        return [
            f"no field keys at {keys_file}: stored gateway payloads cannot be read "
            f"(restore the secrets: `halobuzz restore --secrets FILE`)"
        ]
    try:
        keys, active = config.field_keys(settings)
    except config.ConfigError as exc:
        return [str(exc)]
    checked, bad = undecryptable_payloads(conn, FieldCipher(keys, active))
    if not bad:
        return []
    more = " (and more)" if bad[-1] == -1 else ""
    ids = ", ".join(str(i) for i in bad if i != -1)
    return [
        f"{len([i for i in bad if i != -1])}{more} of {checked} stored gateway payloads do not decrypt with "
        f"the field keys in use (payment_events {ids}): restore the secrets that belong to this database "
        f"(`halobuzz restore --secrets FILE`)"
    ]
