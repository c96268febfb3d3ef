"""Opening SQLite connections with the PRAGMAs every connection of the appliance needs."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

# Litestream holds read transactions while it copies the WAL; a busy_timeout lets
# our writer wait those out instead of failing (Litestream docs, "Tips & Caveats").
BUSY_TIMEOUT_MS = 5000
SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def connect(
    path: str | Path, *, readonly: bool = False, synchronous: str = "FULL", check_same_thread: bool = True
) -> sqlite3.Connection:
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=check_same_thread
        )
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_file(path)
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
        for suffix in ("-wal", "-shm"):
            _private_file(Path(f"{path}{suffix}"), create=False)
    return conn


def _private_file(path: Path, *, create: bool = True) -> None:
    """The database holds password hashes, emails, birth dates and DMs: 0600 whatever the umask.
    Created 0600 before SQLite opens it (SQLite gives its -wal and -shm the database's mode);
    a file left readable by others (older install, copied in) is tightened."""
    try:
        if create and not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077 and path.stat().st_uid == os.getuid():
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass
