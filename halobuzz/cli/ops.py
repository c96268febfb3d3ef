"""Operations: migrate, doctor, version."""
from __future__ import annotations

import sys

import click

from .. import __version__
from ..db import migrate as migrations
from ..db.connection import connect
from .common import data_dir_option, fail, load_settings


def register(cli: click.Group) -> None:
    @cli.command()
    @data_dir_option
    def migrate(data_dir):
        """Apply pending schema migrations (serve also does this at start).

        \b
        Example:
          halobuzz migrate --data-dir /var/lib/halobuzz
        """
        settings = load_settings(data_dir)
        conn = connect(settings.db_path, synchronous=settings.synchronous)
        try:
            done = migrations.migrate(conn)
            version = migrations.current_version(conn)
        except migrations.MigrationError as exc:
            fail(str(exc))
        finally:
            conn.close()
        for mig in done:
            click.echo(f"applied {mig.version:04d}_{mig.name}")
        click.echo(f"schema version {version}")

    @cli.command()
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
                click.echo(f"{name:<16} {'ok' if not problems else 'PROBLEM'}")
                for p in problems:
                    click.echo(f"    - {p}")
                bad += len(problems)
        finally:
            conn.close()
        sys.exit(1 if bad else 0)

    @cli.command()
    def version():
        """Print version and bundled component versions.

        \b
        Example:
          halobuzz version
        """
        import sqlite3
        from importlib.metadata import PackageNotFoundError, version as pkg_version
        click.echo(f"halobuzz {__version__}")
        click.echo(f"python {sys.version.split()[0]}  sqlite {sqlite3.sqlite_version}")
        for pkg in ("sanic", "onnxruntime", "websockets", "apscheduler"):
            try:
                click.echo(f"{pkg} {pkg_version(pkg)}")
            except PackageNotFoundError:
                click.echo(f"{pkg} (not installed)")
