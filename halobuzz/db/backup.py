"""Snapshots, restores and safe upgrades of the database file.

* `snapshot()` — a consistent copy through SQLite's online backup API (safe while the
  server writes), checked with `PRAGMA quick_check`, written under a temporary name and
  renamed, so a half-written file never looks like a backup.
* `restore_from_replica()` — point-in-time restore with `litestream restore` into a
  temporary file next to the database, verified, then moved into place.
* `restore_from_file()` — put a snapshot made by `halobuzz backup` back.
* `migrate_with_rollback()` — take a pre-upgrade snapshot, apply pending migrations and,
  when one fails, copy the snapshot back (the snapshot is kept either way).
* `ServeLock` — an flock on <data>/.serve.lock held by `serve`, so the CLI can tell a live
  database from a stopped one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import migrate as migrations
from .connection import connect

LOCK_NAME = ".serve.lock"


class BackupError(RuntimeError):
    pass


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _copy_db(src: sqlite3.Connection, dest_path: Path) -> None:
    dest = sqlite3.connect(str(dest_path), isolation_level=None)
    try:
        src.backup(dest, pages=4096)  # steps: the writer is never locked out for long
        dest.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dest.close()


def check_file(path: Path) -> str | None:
    """None if `path` is a healthy SQLite database, else what is wrong with it."""
    if not path.is_file():
        return f"{path} does not exist"
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            return f"{path} is not an SQLite database"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"{path} is corrupt: {exc}"
    if rows != ["ok"]:
        return f"{path} is corrupt: {'; '.join(rows[:3])}"
    return None


def snapshot(db_path: Path, dest_dir: Path, label: str = "manual", conn: sqlite3.Connection | None = None) -> Path:
    """Copy the live database to dest_dir/halobuzz-<utc>-<label>.db and return the path."""
    db_path = Path(db_path)
    if conn is None and not db_path.exists():
        raise BackupError(f"no database at {db_path}")
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(dest_dir, 0o700)
    except OSError as exc:
        raise BackupError(f"cannot use backups directory {dest_dir}: {exc}") from None
    final = dest_dir / f"halobuzz-{_stamp()}-{label}.db"
    tmp = final.with_suffix(".db.partial")
    own = conn is None
    src = conn or connect(db_path, readonly=True)
    try:
        _copy_db(src, tmp)
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        problem = check_file(tmp)
        if problem:
            raise BackupError(f"snapshot failed its check: {problem}")
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"writing {final} failed: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"snapshot of {db_path} failed: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if own:
            src.close()
    return final


def copy_into(snapshot_path: Path, db_path: Path) -> None:
    """Overwrite the database at db_path with a snapshot, through the backup API (so WAL,
    locks and any connected Litestream see ordinary writes, not a swapped file)."""
    problem = check_file(Path(snapshot_path))
    if problem:
        raise BackupError(problem)
    src = sqlite3.connect(f"file:{snapshot_path}?mode=ro", uri=True)
    dest = connect(db_path)
    try:
        src.backup(dest)
    finally:
        src.close()
        dest.close()


# -- pre-upgrade snapshot and automatic rollback ---------------------------------------------


def migrate_with_rollback(
    path: Path, synchronous: str = "FULL", backups_dir: Path | None = None
) -> list[migrations.Migration]:
    """Apply pending migrations. When the database already has a schema, snapshot it first;
    if any migration fails, copy the snapshot back, keep it, and raise MigrationError."""
    path = Path(path)
    backups_dir = Path(backups_dir) if backups_dir else path.parent / "backups"
    conn = connect(path, synchronous=synchronous)
    snap: Path | None = None
    try:
        todo = migrations.pending(conn)
        if not todo:
            return []
        version = migrations.current_version(conn)
        if version > 0:
            snap = snapshot(path, backups_dir, f"pre-upgrade-v{version:04d}", conn=conn)
        try:
            return migrations.migrate(conn)
        except Exception as exc:
            if snap is None:
                raise
            conn.close()
            conn = None
            copy_into(snap, path)
            raise migrations.MigrationError(
                f"migration failed ({exc}); the database was rolled back to schema version {version} "
                f"from the pre-upgrade snapshot {snap} (kept)"
            ) from exc
    finally:
        if conn is not None:
            conn.close()


def dry_run_upgrade(
    path: Path, run_checks: Callable[[sqlite3.Connection], list[tuple[str, list[str]]]]
) -> dict[str, Any]:
    """Apply pending migrations to a temporary copy and report; the database is not touched."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"no database at {path}")
    with tempfile.TemporaryDirectory(prefix="halobuzz-upgrade-") as tmp:
        src = connect(path, readonly=True)
        try:
            before = migrations.current_version(src)
            copy = Path(tmp) / "copy.db"
            _copy_db(src, copy)
        finally:
            src.close()
        conn = connect(copy)
        report: dict[str, Any] = {"from": before, "pending": [], "ok": True, "error": None}
        try:
            todo = migrations.pending(conn)
            report["pending"] = [f"{m.version:04d}_{m.name}" for m in todo]
            started = time.perf_counter()
            try:
                migrations.migrate(conn)
            except Exception as exc:
                report["ok"], report["error"] = False, str(exc)
            report["seconds"] = round(time.perf_counter() - started, 3)
            report["to"] = migrations.current_version(conn)
            if report["ok"]:
                report["checks"] = {name: problems for name, problems in run_checks(conn)}
                report["ok"] = not any(
                    not p.startswith("warning:") for problems in report["checks"].values() for p in problems
                )
        except migrations.MigrationError as exc:
            report["ok"], report["error"] = False, str(exc)
        finally:
            conn.close()
    return report


# -- is a server using this data dir? ---------------------------------------------------------


class ServeLock:
    """Held (flock) by `serve` for its lifetime; the CLI probes it before destructive work."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    @staticmethod
    def held(data_dir: Path) -> bool:
        probe = ServeLock(data_dir)
        if not probe.path.exists():
            return False
        if probe.acquire():
            probe.release()
            return False
        return True


# -- restore ----------------------------------------------------------------------------------


def _remove_db_files(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    # Litestream's local state describes the old file: a restored database starts fresh
    # (Litestream docs, "Deleting SQLite databases").
    shutil.rmtree(db_path.parent / f".{db_path.name}-litestream", ignore_errors=True)


def _install(restored: Path, db_path: Path) -> None:
    problem = check_file(restored)
    if problem:
        raise BackupError(f"restored database failed its check: {problem}")
    conn = sqlite3.connect(str(restored))
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_migrations'").fetchone():
            raise BackupError("restored file is an SQLite database but not a HaloBuzz one (no schema_migrations)")
    finally:
        conn.close()
    _remove_db_files(db_path)
    os.replace(restored, db_path)
    os.chmod(db_path, 0o600)


def normalise_timestamp(text: str) -> str:
    try:
        ts = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise BackupError(f"--timestamp {text!r}: use ISO 8601, e.g. 2026-11-25T08:00:00Z") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def restore_from_file(snapshot_path: Path, db_path: Path) -> None:
    snapshot_path = Path(snapshot_path)
    problem = check_file(snapshot_path)
    if problem:
        raise BackupError(problem)
    tmp = db_path.with_name(f".{db_path.name}.restoring")
    tmp.unlink(missing_ok=True)
    try:
        shutil.copyfile(snapshot_path, tmp)
        _install(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


_LITESTREAM_ERRORS = (  # first match wins: local causes before replica ones
    ("no space left", "disk full while restoring (nothing was replaced)"),
    ("permission denied", "permission denied while restoring (nothing was replaced)"),
    ("no matching backup", "nothing to restore: the replica has no backup{when}"),
    ("no backups found", "nothing to restore: the replica has no backup{when}"),
    ("no snapshots", "nothing to restore: the replica has no snapshot{when}"),
    ("timestamp", "no backup at or before the requested time{when}"),
    ("checksum", "the replica's data is corrupt (checksum mismatch)"),
    ("decode", "the replica's data is corrupt (cannot decode LTX file)"),
    ("no such host", "replica host not found"),
    ("connection refused", "replica unreachable (connection refused)"),
)


def restore_from_replica(
    settings: Any,
    source: str,
    db_path: Path,
    *,
    timestamp: str | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """`litestream restore` of `source` (a replica directory or s3:// URL) into db_path."""
    from . import replication

    binary = replication.litestream_binary(settings.litestream_bin)
    spec = replication.replica_spec(settings, source)
    if spec and spec["type"] == "file":
        rdir = Path(spec["path"])
        if not rdir.is_dir():
            raise BackupError(f"replica directory {rdir} does not exist")
        if not (rdir / "ltx").is_dir():
            raise BackupError(f"{rdir} is not a Litestream replica (no ltx/ inside)")
    tmp_out = db_path.with_name(f".{db_path.name}.restoring")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_out}{suffix}").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="halobuzz-restore-") as tmp:
        cfg = replication.write_private(
            Path(tmp) / "litestream.yml", replication.render_config(settings, db_path=db_path, url=source)
        )
        cmd = [binary, "restore", "-config", str(cfg), "-o", str(tmp_out), "-integrity-check", "quick"]
        when = ""
        if timestamp:
            ts = normalise_timestamp(timestamp)
            cmd += ["-timestamp", ts]
            when = f" at or before {ts}"
        cmd.append(str(db_path))
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=replication.child_env()
        )
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
        reader.start()
        while proc.poll() is None:
            if progress:
                progress(_size(tmp_out), time.monotonic() - started)
            time.sleep(0.2)
        reader.join(5)
        if progress:
            progress(_size(tmp_out), time.monotonic() - started)
        if proc.returncode != 0:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{tmp_out}{suffix}").unlink(missing_ok=True)
            text = " ".join("".join(out).split())
            low = text.lower()
            for needle, message in _LITESTREAM_ERRORS:
                if needle in low:
                    raise BackupError(f"{message.format(when=when)} [{source}]: {text[-400:]}")
            raise BackupError(f"litestream restore from {source} failed: {text[-600:] or proc.returncode}")
    try:
        _install(tmp_out, db_path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp_out}{suffix}").unlink(missing_ok=True)
    return {"seconds": round(time.monotonic() - started, 2), "bytes": _size(db_path)}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
