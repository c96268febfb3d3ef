"""One migrated database per test session, copied for each test that needs one.

Migrating costs every migration's DDL and triggers per test; a file copy costs a few
hundred microseconds. The template is built on first use (so a run that needs none builds
none) and checkpointed so the main file holds everything.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate

_template: Path | None = None


def _build() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="halobuzz-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "template.db"
    conn = connect(path, synchronous="OFF")
    migrate(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def migrated_db(path: Path, synchronous: str = "OFF") -> sqlite3.Connection:
    """A connection to a fresh, fully migrated database at `path` (a copy of the template)."""
    global _template
    if _template is None:
        _template = _build()
    shutil.copyfile(_template, path)
    return connect(path, synchronous=synchronous)
