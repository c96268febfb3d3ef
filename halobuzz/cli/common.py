"""What CLI commands share: options, opening the data dir, one-line errors."""

from __future__ import annotations

import getpass
import sqlite3
from contextlib import contextmanager
from typing import IO, Any, Iterator, NoReturn

import click

from .. import config
from ..accounts.audit import Actor
from ..db.database import open_and_migrate
from ..db.migrate import MigrationError
from ..db.writer import Writer
from ..errors import DomainError

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="HALOBUZZ_DATA_DIR",
    default="./data",
    show_default=True,
    help="Directory holding halobuzz.db, halobuzz.toml and secrets/",
)


class CommandFailed(click.ClickException):
    """A command that cannot do what was asked: one line on stderr, `error: <message>`, exit 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def fail(message: str) -> NoReturn:
    raise CommandFailed(message)


def load_settings(data_dir: str, **overrides) -> config.Settings:
    try:
        return config.load(data_dir, **overrides)
    except config.ConfigError as exc:
        fail(str(exc))


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return Actor(name=f"cli:{who}", source="cli")


def _prepare(settings: config.Settings) -> None:
    """Make sure the schema matches this build before a command touches the database.

    Migrating while `serve` runs would change tables under a server built for the old
    schema, so then we refuse and say what to do; with no server running (or no database
    yet) the command may bring the schema up to date itself.
    """
    from ..db import backup
    from ..db import migrate as migrations
    from ..db.connection import connect as open_db

    if settings.db_path.exists():
        conn = open_db(settings.db_path, readonly=True)
        try:
            todo = migrations.pending(conn)
        except MigrationError as exc:
            fail(str(exc))
        finally:
            conn.close()
        if not todo:
            return
        if backup.ServeLock.held(settings.data_dir):
            fail(
                f"{len(todo)} schema migration(s) pending while a server runs on {settings.data_dir}: "
                "restart `halobuzz serve` with this version (it migrates at start) and try again"
            )
    try:
        open_and_migrate(settings.db_path, settings.synchronous)
    except MigrationError as exc:
        fail(str(exc))


@contextmanager
def writer_for(settings: config.Settings) -> Iterator[Writer]:
    """A writer on the data dir's database. Safe while the server runs: SQLite's
    write lock (BEGIN IMMEDIATE + busy_timeout) serialises us with its writer."""
    _prepare(settings)
    w = Writer(settings.db_path, synchronous=settings.synchronous)
    try:
        yield w
    finally:
        w.close()


@contextmanager
def reader_for(settings: config.Settings) -> Iterator[sqlite3.Connection]:
    """A read-only connection for commands that only look: never migrates, never writes."""
    from ..db import migrate as migrations
    from ..db.connection import connect as open_db

    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path} (run `halobuzz init`)")
    conn = open_db(settings.db_path, readonly=True)
    try:
        try:
            todo = migrations.pending(conn)
        except MigrationError as exc:
            fail(str(exc))
        if todo:
            fail(f"{len(todo)} schema migration(s) pending: run `halobuzz migrate` (with the server stopped)")
        yield conn
    finally:
        conn.close()


def run(writer: Writer, fn):
    """Run one write unit; any failure is one line on stderr and exit 1."""
    try:
        return writer.write_sync(fn)
    except DomainError as exc:
        fail(
            exc.message
            if not exc.fields
            else f"{exc.message} ({', '.join(f'{k}: {v}' for k, v in exc.fields.items())})"
        )
    except sqlite3.Error as exc:
        fail(f"database error: {exc}")
