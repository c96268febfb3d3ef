"""Backups: snapshot, restore (from a replica or a snapshot file), upgrade with rollback."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..db import backup as bk
from ..db import migrate as migrations
from ..db.connection import connect
from ..db.replication import ReplicationError
from .common import data_dir_option, fail, load_settings


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


@click.command()
@data_dir_option
@click.option("--to", "dest", type=click.Path(file_okay=False), default=None,
              help="Directory for the snapshot (default: the backups_dir setting, <data>/backups)")


@click.option("--replica", is_flag=True,
              help="Also push a full Litestream snapshot to the configured replica (server stopped)")


def backup(data_dir, dest, replica):
    """Snapshot the database now: a consistent copy made with SQLite's backup API
    (safe while the server runs), checked, written with mode 0600.

    \b
    Example:
      halobuzz backup --data-dir /var/lib/halobuzz
      halobuzz backup --to /mnt/usb/halobuzz --replica
    """
    settings = load_settings(data_dir)
    try:
        path = bk.snapshot(settings.db_path, Path(dest) if dest else settings.backups_path)
    except bk.BackupError as exc:
        fail(str(exc))
    click.echo(f"snapshot {path} ({_human(path.stat().st_size)})")
    if replica:
        if not settings.replica_url:
            fail("no replica configured (set replica_url)")
        if bk.ServeLock.held(settings.data_dir):
            click.echo("replica: serve is running and replicating continuously; nothing more to do")
            return
        import subprocess
        import tempfile
        from ..db import replication
        try:
            binary = replication.litestream_binary(settings.litestream_bin)
            with tempfile.TemporaryDirectory(prefix="halobuzz-backup-") as tmp:
                cfg = replication.write_private(Path(tmp) / "litestream.yml",
                                                replication.render_config(settings))
                out = subprocess.run([binary, "replicate", "-once", "-force-snapshot", "-config", str(cfg)],
                                     capture_output=True, text=True, timeout=600,
                                     env=replication.child_env())
        except (ReplicationError, subprocess.SubprocessError) as exc:
            fail(f"replica snapshot failed: {exc}")
        if out.returncode != 0:
            fail(f"replica snapshot failed: {(out.stderr or out.stdout).strip()[-500:]}")
        click.echo(f"replica snapshot pushed to {replication._redact(settings.replica_url)}")


@click.command()
@data_dir_option
@click.option("--from", "source", default=None,
              help="Replica directory, s3://BUCKET/PATH, or a snapshot .db file (default: replica_url)")


@click.option("--timestamp", default=None, help="Point in time (ISO 8601, UTC if no zone)")
@click.option("--force", is_flag=True, help="Replace an existing database (a copy of it is kept first)")
def restore(data_dir, source, timestamp, force):
    """Restore the database from the replica (optionally as it was at --timestamp) or from a
    snapshot file. Refuses to replace an existing database without --force, and always
    refuses while `serve` runs on the data directory.

    \b
    Example:
      halobuzz restore --data-dir /var/lib/halobuzz --timestamp 2026-11-25T08:00:00Z
      halobuzz restore --data-dir ./new --from s3://halobuzz-backups/shard-np
      halobuzz restore --from ./data/backups/halobuzz-20261125T080000Z-manual.db --force
    """
    settings = load_settings(data_dir)
    db = settings.db_path
    if timestamp:
        try:
            timestamp = bk.normalise_timestamp(timestamp)
        except bk.BackupError as exc:
            fail(str(exc))
    source = source or settings.replica_url
    if not source:
        fail("nothing to restore from: pass --from DIR|URL|FILE or set replica_url")
    if not settings.data_dir.is_dir():
        try:
            settings.data_dir.mkdir(parents=True)
        except OSError as exc:
            fail(f"cannot create data directory {settings.data_dir}: {exc.strerror}")
    if bk.ServeLock.held(settings.data_dir):
        fail(f"a server is running on {settings.data_dir}; stop it before restoring")
    if db.exists():
        if not force:
            fail(f"a database already exists at {db}; pass --force to replace it")
        try:
            kept = bk.snapshot(db, settings.backups_path, "pre-restore")
            click.echo(f"kept the current database as {kept}", err=True)
        except bk.BackupError as exc:
            fail(f"could not keep a copy of the current database ({exc}); not restoring")
    is_file = Path(source).is_file()
    if is_file and timestamp:
        fail("--timestamp needs a replica (--from DIR|URL), not a snapshot file")
    interactive = sys.stderr.isatty()

    def progress(nbytes: int, elapsed: float) -> None:
        spinner = "|/-\\"[int(elapsed * 5) % 4]
        text = f"restoring {spinner} {_human(nbytes)} written, {elapsed:.1f}s"
        if interactive:
            click.echo("\r" + text.ljust(60), nl=False, err=True)
        elif int(elapsed * 5) % 25 == 0:
            click.echo(text, err=True)

    try:
        if is_file:
            bk.restore_from_file(Path(source), db)
            result = {"bytes": db.stat().st_size}
        else:
            result = bk.restore_from_replica(settings, source, db, timestamp=timestamp, progress=progress)
    except (bk.BackupError, ReplicationError) as exc:
        if interactive:
            click.echo("", err=True)
        fail(str(exc))
    if interactive:
        click.echo("", err=True)
    conn = connect(db, readonly=True)
    try:
        version = migrations.current_version(conn)
    finally:
        conn.close()
    click.echo(f"restored {db} ({_human(result['bytes'])}, schema version {version})"
               f"{' as of ' + bk.normalise_timestamp(timestamp) if timestamp else ''}")


@click.command()
@data_dir_option
@click.option("--dry-run", is_flag=True, help="Apply pending migrations to a copy and report only")
def upgrade(data_dir, dry_run):
    """Apply pending schema migrations with a pre-upgrade snapshot (rolled back on failure),
    or with --dry-run try them on a copy and report what would happen.

    \b
    Example:
      halobuzz upgrade --dry-run --data-dir /var/lib/halobuzz
    """
    settings = load_settings(data_dir)
    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path} (run `halobuzz init`)")
    if dry_run:
        try:
            from .. import doctor as checks
            report = bk.dry_run_upgrade(settings.db_path, checks.run_all)
        except (bk.BackupError, migrations.MigrationError) as exc:
            fail(str(exc))
        click.echo(f"schema version {report['from']} -> {report.get('to', report['from'])}")
        for name in report["pending"]:
            click.echo(f"  would apply {name}")
        if not report["pending"]:
            click.echo("  nothing to apply")
        for name, problems in (report.get("checks") or {}).items():
            click.echo(f"  check {name:<14} {'ok' if not problems else 'PROBLEM'}")
            for p in problems:
                click.echo(f"      - {p}")
        if report.get("seconds") is not None:
            click.echo(f"  took {report['seconds']}s on a copy")
        if not report["ok"]:
            fail(f"upgrade would fail: {report['error'] or 'checks reported problems'}")
        click.echo("dry run ok: the database was not changed")
        return
    try:
        done = bk.migrate_with_rollback(settings.db_path, settings.synchronous, settings.backups_path)
    except (migrations.MigrationError, bk.BackupError) as exc:
        fail(str(exc))
    for mig in done:
        click.echo(f"applied {mig.version:04d}_{mig.name}")
    click.echo("up to date" if not done else "upgrade done (pre-upgrade snapshot in "
               f"{settings.backups_path})")
