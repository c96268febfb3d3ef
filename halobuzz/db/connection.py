"""Opening SQLite connections with the PRAGMAs every connection of the appliance needs."""
from __future__ import annotations

import sqlite3
from pathlib import Path

# Litestream holds read transactions while it copies the WAL; a busy_timeout lets
# our writer wait those out instead of failing (Litestream docs, "Tips & Caveats").
BUSY_TIMEOUT_MS = 5000
SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def connect(path: str | Path, *, readonly: bool = False, synchronous: str = "FULL",
            check_same_thread: bool = True) -> sqlite3.Connection:
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=check_same_thread)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
        if synchronous.upper() not in SYNC_MODES:
            raise ValueError(f"synchronous must be one of {SYNC_MODES}")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        # Checkpoints and Litestream (checked against Litestream 0.5.17's docs and source):
        # Litestream keeps a long-running read transaction and checkpoints itself (PASSIVE at
        # 1000 pages or every minute, TRUNCATE only past ~121k pages). Our autocheckpoint is
        # PASSIVE too, so it can never reset the WAL under Litestream's read mark; the worst a
        # race can do is make Litestream take a fresh snapshot (litestream issue #547), never
        # corrupt the replica. The tips page's "disable autocheckpoints under heavy writes"
        # would leave the WAL unbounded whenever Litestream is down or not configured, so we
        # keep SQLite's default threshold. busy_timeout above covers its short write locks.
        conn.execute("PRAGMA wal_autocheckpoint=1000")
    return conn
