"""What CLI commands share: options, opening the data dir, one-line errors."""
from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from typing import Iterator

import click

from .. import config
from ..accounts.audit import Actor
from ..db.database import open_and_migrate
from ..db.migrate import MigrationError
from ..db.writer import Writer
from ..errors import DomainError

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), envvar="HALOBUZZ_DATA_DIR", default="./data",
    show_default=True, help="Directory holding halobuzz.db, halobuzz.toml and secrets/")


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def load_settings(data_dir: str, **overrides) -> config.Settings:
    try:
        return config.load(data_dir, **overrides)
    except config.ConfigError as exc:
        fail(str(exc))
        raise  # unreachable


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return Actor(name=f"cli:{who}", source="cli")


@contextmanager
def writer_for(settings: config.Settings) -> Iterator[Writer]:
    """A writer on the data dir's database. Safe while the server runs: SQLite's
    write lock (BEGIN IMMEDIATE + busy_timeout) serialises us with its writer."""
    try:
        open_and_migrate(settings.db_path, settings.synchronous)
    except MigrationError as exc:
        fail(str(exc))
    w = Writer(settings.db_path, synchronous=settings.synchronous)
    try:
        yield w
    finally:
        w.close()


def run(writer: Writer, fn):
    try:
        return writer.write_sync(fn)
    except DomainError as exc:
        fail(exc.message if not exc.fields else f"{exc.message} ({', '.join(f'{k}: {v}' for k, v in exc.fields.items())})")
