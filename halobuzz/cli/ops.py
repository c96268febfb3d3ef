"""Operations: migrate, doctor, version, healthcheck."""

from __future__ import annotations

import sys

import click

from ..db import migrate as migrations
from ..db.connection import connect
from . import serve_file
from .common import data_dir_option, fail, load_settings


@click.command()
@data_dir_option
def migrate(data_dir):
    """Apply pending schema migrations (serve also does this at start).

    \b
    Example:
      halobuzz migrate --data-dir /var/lib/halobuzz
    """
    from ..db.backup import BackupError, ServeLock, migrate_with_rollback

    settings = load_settings(data_dir)
    if ServeLock.held(settings.data_dir):
        fail(
            f"a server is running on {settings.data_dir}; stop it first "
            "(or just restart it with the new version: serve migrates at start)"
        )
    try:
        done = migrate_with_rollback(settings.db_path, settings.synchronous, settings.backups_path)
    except (migrations.MigrationError, BackupError) as exc:
        fail(str(exc))
    conn = connect(settings.db_path, readonly=True)
    try:
        version = migrations.current_version(conn)
    finally:
        conn.close()
    for mig in done:
        click.echo(f"applied {mig.version:04d}_{mig.name}")
    click.echo(f"schema version {version}")


@click.command()
@data_dir_option
def doctor(data_dir):
    """Check the database: schema, SQLite integrity, and every registered check
    (ledger balances and hash chain once money exists). Exit 1 on any problem.

    \b
    Example:
      halobuzz doctor --data-dir ./data
    """
    from .. import doctor as checks

    settings = load_settings(data_dir)
    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path} (run `halobuzz init`)")
    conn = connect(settings.db_path, readonly=True)
    try:
        click.echo(f"schema version {migrations.current_version(conn)}")
        bad = 0
        for name, problems in checks.run_all(conn):
            serious = [p for p in problems if not p.startswith("warning:")]
            click.echo(f"{name:<16} {'ok' if not problems else 'PROBLEM' if serious else 'WARN'}")
            for p in problems:
                click.echo(f"    - {p}")
            bad += len(serious)
        payloads = checks.stored_payloads(conn, settings)
        click.echo(f"{'stored payloads':<16} {'ok' if not payloads else 'PROBLEM'}")
        for p in payloads:
            click.echo(f"    - {p}")
        bad += len(payloads)
    finally:
        conn.close()
    sys.exit(1 if bad else 0)


@click.command()
def version():
    """Print version, git commit and bundled component versions.

    \b
    Example:
      halobuzz version
    """
    import sqlite3

    from .. import resources
    from ..db import replication

    info = resources.build_info()
    click.echo(
        f"halobuzz {info['version']} (commit {info['commit']}"
        f"{', built ' + info['built_at'] if info.get('built_at') else ''}"
        f"{', one-file binary' if info['frozen'] else ''})"
    )
    click.echo(f"python {sys.version.split()[0]}  sqlite {sqlite3.sqlite_version}")
    if "litestream" not in info["components"]:
        click.echo(f"litestream {replication.litestream_version()}")
    for pkg, ver in sorted(info["components"].items()):
        click.echo(f"{pkg} {ver}")
    from ..media.engine import version_line

    click.echo(f"media engine: {version_line()}")
    for model in resources.models_manifest():
        click.echo(f"model {model.get('id', '?')} ({model.get('file', '?')})")


@click.command()
@data_dir_option
@click.option(
    "--url",
    default=None,
    help="URL to probe (default http://<host>:<port>/healthz of the server running on the data dir, "
    "else from settings)",
)
@click.option("--ready", is_flag=True, help="Probe /readyz instead (database, migrations, replication)")
def healthcheck(data_dir, url, ready):
    """Exit 0 if the local server answers 200 (for container HEALTHCHECK and scripts).

    \b
    Example:
      halobuzz healthcheck --ready
    """
    import urllib.error
    import urllib.request

    settings = load_settings(data_dir)
    # The port `serve` was started with (it may differ from the settings: --port, environment).
    serving = serve_file.read(settings.data_dir) or serve_file.Serving(0, settings.host, settings.port)
    host = f"[{serving.local_host}]" if ":" in serving.local_host else serving.local_host
    url = url or f"http://{host}:{serving.port}/{'readyz' if ready else 'healthz'}"
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            body = r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        fail(f"{url} answered {exc.code}: {exc.read().decode('utf-8', 'replace')[:300]}")
    except (urllib.error.URLError, OSError) as exc:
        fail(f"{url} unreachable: {getattr(exc, 'reason', exc)}")
    click.echo(body)
