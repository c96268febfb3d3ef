"""Numbered SQL migrations, applied in order and recorded with a checksum.

Files in migrations/ are named NNNN_owner.sql. A shipped file is never edited:
add a new number instead. Opening a database that recorded a migration this
build does not know means a newer HaloBuzz wrote it, and we refuse to touch it.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    found = []
    for entry in resources.files("halobuzz.db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {versions}")
    return found


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)""")


def applied(conn: sqlite3.Connection) -> dict[int, tuple[str, str]]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone()
    if not exists:
        return {}
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT version, name, checksum FROM schema_migrations")}


def current_version(conn: sqlite3.Connection) -> int:
    done = applied(conn)
    return max(done) if done else 0


def pending(conn: sqlite3.Connection) -> list[Migration]:
    known = available()
    done = applied(conn)
    newest_known = known[-1].version if known else 0
    newer = [v for v in done if v > newest_known]
    if newer:
        raise MigrationError(
            f"database schema version {max(newer)} is newer than this build supports "
            f"({newest_known}); upgrade HaloBuzz before opening it"
        )
    for mig in known:
        if mig.version in done and done[mig.version][1] != mig.checksum:
            raise MigrationError(
                f"migration {mig.version:04d}_{mig.name} was edited after it was applied "
                "(checksum mismatch); shipped migrations must never change"
            )
    todo = [mig for mig in known if mig.version not in done]
    if done and todo and todo[0].version < max(done):
        # Applying it now would order migrations differently here than on a fresh database.
        raise MigrationError(
            f"migration {todo[0].version:04d}_{todo[0].name} is older than the newest applied one "
            f"({max(done):04d}); this database and a fresh one would end up with different schemas"
        )
    return todo


def migrate(conn: sqlite3.Connection) -> list[Migration]:
    """Apply every pending migration, each in its own transaction. Returns what was applied."""
    todo = pending(conn)
    for mig in todo:
        conn.execute("BEGIN IMMEDIATE")
        try:
            _ensure_table(conn)
            for statement in _split(mig.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?,?,?,?)",
                (mig.version, mig.name, mig.checksum, datetime.now(timezone.utc).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return todo


def _split(sql: str) -> list[str]:
    """Split a script into statements (sqlite3.complete_statement knows about triggers)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        statements.append(buf.strip())
    return [s for s in statements if s.rstrip(";").strip() and not _only_comments(s)]


def _only_comments(stmt: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in stmt.splitlines())
