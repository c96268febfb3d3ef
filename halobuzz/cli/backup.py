"""Backups: self-contained archives (database + secrets + settings), restore (from an archive, a
replica or a snapshot file), the secrets export, upgrade with rollback."""

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


def _passphrase(*, confirm: bool) -> str:
    import os

    value = os.environ.get("HALOBUZZ_BACKUP_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        fail("a passphrase is needed: set HALOBUZZ_BACKUP_PASSPHRASE or run interactively")
    value = click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm)
    if len(value) < 8:
        fail("the passphrase must be at least 8 characters")
    return value


def _archive_passphrase(path: Path) -> str | None:
    from ..db import archive

    return _passphrase(confirm=False) if archive.is_sealed(path) else None


def _gather_secrets(settings) -> tuple[dict[str, bytes], bytes | None]:
    from .. import config

    secrets = {name: path.read_bytes() for name, path in config.secret_files(settings).items() if path.exists()}
    toml = settings.data_dir / "halobuzz.toml"
    return secrets, (toml.read_bytes() if toml.exists() else None)


def _put_back(settings, bundle) -> tuple[int, list[str]]:
    """Write an archive's secrets and settings where this data dir's settings look for them; a
    different file already there is kept next to it (<name>.pre-restore-<utc>). Returns
    (bytes written, what was written)."""
    from .. import config
    from ..db import archive
    from ..db.backup import _stamp

    targets = config.secret_files(settings)
    total, names = 0, []
    items = [
        (targets.get(name, settings.secrets_dir / name), data, f"secret {name}")
        for name, data in bundle.secrets.items()
    ]
    if bundle.settings_toml is not None:
        items.append((settings.data_dir / "halobuzz.toml", bundle.settings_toml, "halobuzz.toml"))
    for path, data, label in items:
        if path.exists() and path.read_bytes() != data:
            kept = path.with_name(f"{path.name}.pre-restore-{_stamp()}")
            path.rename(kept)
            click.echo(f"kept the previous {label} as {kept}", err=True)
        total += archive.write_private(path, data)
        names.append(label)
    return total, names


@click.command()
@data_dir_option
@click.option(
    "--to",
    "dest",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for the archive (default: the backups_dir setting, <data>/backups)",
)
@click.option(
    "--encrypt", is_flag=True, help="Seal the archive with a passphrase (HALOBUZZ_BACKUP_PASSPHRASE, else asked)"
)
@click.option(
    "--replica", is_flag=True, help="Also push a full Litestream snapshot to the configured replica (server stopped)"
)
def backup(data_dir, dest, encrypt, replica):
    """Back up everything a new machine needs, in one 0600 archive: a consistent snapshot of
    the database (SQLite's backup API, safe while the server runs, checked), the secrets
    (token signing key, field-encryption keys) and halobuzz.toml. `restore --from` the
    archive puts all of it back.

    \b
    Example:
      halobuzz backup --data-dir /var/lib/halobuzz
      HALOBUZZ_BACKUP_PASSPHRASE=... halobuzz backup --encrypt --to /mnt/usb/halobuzz --replica
    """
    from ..db import archive

    settings = load_settings(data_dir)
    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path} (run `halobuzz init`)")
    passphrase = _passphrase(confirm=True) if encrypt else None
    secrets, settings_toml = _gather_secrets(settings)
    try:
        path = archive.write(
            Path(dest) if dest else settings.backups_path,
            db_path=settings.db_path,
            secrets=secrets,
            settings_toml=settings_toml,
            passphrase=passphrase,
        )
    except bk.BackupError as exc:
        fail(str(exc))
    parts = ["database", f"{len(secrets)} secret(s)"] + (["halobuzz.toml"] if settings_toml else [])
    click.echo(
        f"backup {path} ({_human(path.stat().st_size)}: {', '.join(parts)}{', encrypted' if passphrase else ''})"
    )
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
                cfg = replication.write_private(Path(tmp) / "litestream.yml", replication.render_config(settings))
                out = subprocess.run(
                    [binary, "replicate", "-once", "-force-snapshot", "-config", str(cfg)],
                    capture_output=True,
                    text=True,
                    timeout=600,
                    env=replication.child_env(),
                )
        except (ReplicationError, subprocess.SubprocessError) as exc:
            fail(f"replica snapshot failed: {exc}")
        if out.returncode != 0:
            fail(f"replica snapshot failed: {(out.stderr or out.stdout).strip()[-500:]}")
        click.echo(f"replica snapshot pushed to {replication._redact(settings.replica_url)}")


@click.command()
@data_dir_option
@click.option(
    "--from",
    "source",
    default=None,
    help="Replica directory, s3://BUCKET/PATH, a backup archive (.hbk) or a snapshot .db (default: replica_url)",
)
@click.option("--timestamp", default=None, help="Point in time (ISO 8601, UTC if no zone)")
@click.option("--force", is_flag=True, help="Replace an existing database (a copy of it is kept first)")
@click.option(
    "--secrets",
    "secrets_from",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Secrets to put back with a replica or .db restore: an archive from `halobuzz secrets export` (or `backup`)",
)
@click.option(
    "--no-secrets",
    is_flag=True,
    help="Restore without the secrets: every session ends and stored gateway payloads stay "
    "unreadable unless the data dir already has the right keys",
)
def restore(data_dir, source, timestamp, force, secrets_from, no_secrets):
    """Restore from a backup archive (database, secrets and settings), from the replica
    (optionally as it was at --timestamp) or from a snapshot file. Refuses to replace an
    existing database without --force, always refuses while `serve` runs on the data
    directory, and refuses a database without its secrets unless --secrets or --no-secrets.

    \b
    Example:
      halobuzz restore --data-dir /srv/new --from /mnt/usb/halobuzz-20261125T080000Z-manual.hbk
      halobuzz restore --data-dir /var/lib/halobuzz --timestamp 2026-11-25T08:00:00Z --force
      halobuzz restore --data-dir ./new --from s3://halobuzz-backups/shard-np --secrets np-secrets.hbk
    """
    import tempfile

    from .. import config
    from ..db import archive

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
    is_file = Path(source).is_file()
    from_archive = is_file and archive.is_archive(Path(source))
    if is_file and timestamp:
        fail("--timestamp needs a replica (--from DIR|URL), not a file")
    # A bad source is reported before anything about secrets.
    if is_file and not from_archive:
        problem = bk.check_file(Path(source))
        if problem:
            fail(problem)
    elif not is_file and "://" not in source:
        if not Path(source).is_dir():
            fail(f"replica directory {source} does not exist")
        if not (Path(source) / "ltx").is_dir():
            fail(f"{source} is not a Litestream replica (no ltx/ inside)")
    targets = config.secret_files(settings)
    have_secrets = all(path.exists() for path in targets.values())
    if not from_archive and not secrets_from and not no_secrets and not have_secrets:
        fail(
            f"{source} holds the database only and {settings.data_dir} has no secrets: pass --secrets FILE "
            "(from `halobuzz secrets export` or a `halobuzz backup` archive), or --no-secrets to restore "
            "without them (every session ends; stored gateway payloads stay unreadable)"
        )
    if not settings.data_dir.is_dir():
        try:
            settings.data_dir.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            fail(f"cannot create data directory {settings.data_dir}: {exc.strerror}")
    if bk.ServeLock.held(settings.data_dir):
        fail(f"a server is running on {settings.data_dir}; stop it before restoring")
    if db.exists():
        if not force:
            fail(f"a database already exists at {db}; pass --force to replace it")
    interactive = sys.stderr.isatty()

    def progress(nbytes: int, elapsed: float) -> None:
        spinner = "|/-\\"[int(elapsed * 5) % 4]
        text = f"restoring {spinner} {_human(nbytes)} written, {elapsed:.1f}s"
        if interactive:
            click.echo("\r" + text.ljust(60), nl=False, err=True)
        elif int(elapsed * 5) % 25 == 0:
            click.echo(text, err=True)

    written: list[str] = []
    total = 0
    with tempfile.TemporaryDirectory(prefix=".halobuzz-restore-", dir=settings.data_dir) as work:
        contents = None
        try:
            if from_archive:
                contents = archive.read(Path(source), Path(work), _archive_passphrase(Path(source)))
                if contents.db is None:
                    fail(f"{source} is a secrets export (no database): use it with --secrets")
            extra = None
            if secrets_from:
                (Path(work) / "secrets").mkdir()
                extra = archive.read(
                    Path(secrets_from), Path(work) / "secrets", _archive_passphrase(Path(secrets_from))
                )
                if not extra.secrets:
                    fail(f"{secrets_from} holds no secrets")
        except bk.BackupError as exc:
            fail(str(exc))
        if db.exists():
            try:
                kept = bk.snapshot(db, settings.backups_path, "pre-restore")
                click.echo(f"kept the current database as {kept}", err=True)
            except bk.BackupError as exc:
                fail(f"could not keep a copy of the current database ({exc}); not restoring")
        try:
            if contents is not None:
                bk.restore_from_file(contents.db, db)
            elif is_file:
                bk.restore_from_file(Path(source), db)
            else:
                bk.restore_from_replica(settings, source, db, timestamp=timestamp, progress=progress)
        except (bk.BackupError, ReplicationError) as exc:
            if interactive:
                click.echo("", err=True)
            fail(str(exc))
        if interactive:
            click.echo("", err=True)
        total += db.stat().st_size
        written.append("database")
        for bundle in (contents, extra):
            if bundle is None:
                continue
            n, names = _put_back(settings, bundle)
            total += n
            written += names
    conn = connect(db, readonly=True)
    try:
        version = migrations.current_version(conn)
        from .. import doctor as checks

        payloads = checks.stored_payloads(conn, settings) if all(path.exists() for path in targets.values()) else []
    finally:
        conn.close()
    click.echo(
        f"restored {db} ({total} bytes written: {', '.join(written)}; schema version {version})"
        f"{' as of ' + bk.normalise_timestamp(timestamp) if timestamp else ''}"
    )
    for problem in payloads:
        click.echo(f"warning: {problem}", err=True)
    if no_secrets and not from_archive and not secrets_from:
        click.echo(
            "warning: restored without secrets: sessions from before end, and stored gateway "
            "payloads decrypt only if this data dir already had the right keys",
            err=True,
        )


@click.group("secrets")
def secrets_group():
    """The secrets a database needs (token signing key, field-encryption keys)."""


@secrets_group.command("export")
@data_dir_option
@click.option(
    "--to",
    "dest",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for the export (default: the backups_dir setting)",
)
@click.option("--encrypt", is_flag=True, help="Seal it with a passphrase (HALOBUZZ_BACKUP_PASSPHRASE, else asked)")
def secrets_export(data_dir, dest, encrypt):
    """Write the secrets (and halobuzz.toml) to one 0600 archive. Do it once when you set up
    Litestream: the replica holds the database only, and `restore --from <replica>` needs
    this file (`--secrets FILE`) to bring back a server whose sessions and stored payloads work.

    \b
    Example:
      halobuzz secrets export --encrypt --to /mnt/usb
    """
    from ..db import archive

    settings = load_settings(data_dir)
    secrets, settings_toml = _gather_secrets(settings)
    if not secrets:
        fail(f"no secrets in {settings.secrets_dir} (run `halobuzz init`)")
    passphrase = _passphrase(confirm=True) if encrypt else None
    try:
        path = archive.write(
            Path(dest) if dest else settings.backups_path,
            db_path=None,
            secrets=secrets,
            settings_toml=settings_toml,
            passphrase=passphrase,
        )
    except bk.BackupError as exc:
        fail(str(exc))
    click.echo(
        f"secrets {path} ({len(secrets)} secret(s){', halobuzz.toml' if settings_toml else ''}"
        f"{', encrypted' if passphrase else ''})"
    )


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
    click.echo("up to date" if not done else f"upgrade done (pre-upgrade snapshot in {settings.backups_path})")
