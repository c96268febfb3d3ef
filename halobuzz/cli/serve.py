"""`halobuzz serve` and `halobuzz init`."""

from __future__ import annotations

import os
import sqlite3

import click

from .. import config
from ..observability import logging as applog
from . import serve_file
from .common import data_dir_option, fail, load_settings, writer_for


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="TCP port (default 8080)")
@data_dir_option
@click.option("--demo", is_flag=True, default=None, help="Seed demo users, streams and coins if absent")
@click.option(
    "--log-format",
    type=click.Choice(["auto", *applog.FORMATS]),
    default=None,
    help="Log lines for people or for a collector (default: the log_format setting, auto: "
    "human on a terminal, json otherwise)",
)
@click.option("--help-settings", is_flag=True, help="List every setting with its default and exit")
@click.option(
    "--edge",
    is_flag=True,
    help="Run as an edge: hold viewer websockets for a shard's rooms "
    "(no database; the shard's appliance keeps every write)",
)
@click.option("--shard", default=None, help="With --edge: the shard whose rooms this edge serves")
def serve(host, port, data_dir, demo, log_format, help_settings, edge, shard):
    """Run the appliance: API, websocket rooms, scheduler, in one process.

    \b
    Example:
      halobuzz serve --port 8080 --data-dir /var/lib/halobuzz
      HALOBUZZ_ADMIN_EMAILS=ops@example.com halobuzz serve
      halobuzz serve --log-format json | tee -a halobuzz.log
    """
    if help_settings:
        for name, default, text in config.describe():
            click.echo(f"{name:28} {default!r:16} {text}")
        return
    if edge:
        _serve_edge(data_dir, host, port, log_format, shard)
        return
    settings = load_settings(data_dir, host=host, port=port, demo=demo, log_format=log_format)
    if settings.demo:
        from ..demo import DEMO_ADMIN_EMAIL

        settings = settings.with_(admin_emails=(*settings.admin_emails, DEMO_ADMIN_EMAIL))
    applog.configure(settings.log_level, settings.log_format)
    # Bring the schema up to date before the server starts, so a database from a newer
    # build or a failing migration ends with one clear line, not a server traceback.
    from ..db.database import open_and_migrate
    from ..db.migrate import MigrationError

    try:
        open_and_migrate(settings.db_path, settings.synchronous)
    except (MigrationError, sqlite3.Error) as exc:
        fail(f"cannot open {settings.db_path}: {exc}")
    _port_free_or_fail(settings.host, settings.port)
    from ..app import create_app

    try:
        app = create_app(settings)
    except config.ConfigError as exc:
        fail(str(exc))
    if settings.demo:
        from ..demo import seed_demo

        with writer_for(settings) as w:
            seed_demo(w, settings)
    # So `healthcheck` (and shell probes) find the port this server was started with.
    pid = os.getpid()
    serve_file.write(settings.data_dir, settings.host, settings.port, pid)
    click.echo(f"HaloBuzz serving on http://{settings.host}:{settings.port} (data: {settings.data_dir})", err=True)
    try:
        from ..api.http_protocol import TimelyProtocol
        from ..api.stopping import StopGuard

        StopGuard(app).install()
        app.run(
            host=settings.host,
            port=settings.port,
            single_process=True,
            access_log=False,
            motd=False,
            protocol=TimelyProtocol,
        )
    finally:
        serve_file.remove(settings.data_dir, pid)
        _close_if_open(app.ctx.services)


@click.command()
@data_dir_option
@click.option("--demo", is_flag=True, help="Also seed demo data")
def init(data_dir, demo):
    """Create the data directory, its secrets and the database.

    \b
    Example:
      halobuzz init --data-dir ./data --demo
    """
    from ..demo import seed_demo

    settings = load_settings(data_dir)
    config.ensure_secrets(settings)
    with writer_for(settings) as w:
        if demo:
            seed_demo(w, settings)
    click.echo(f"initialised {settings.data_dir}")


def _port_free_or_fail(host: str, port: int) -> None:
    """One clear line instead of Sanic's traceback when the address is taken (bind as Sanic
    will, SO_REUSEADDR, so a socket in TIME_WAIT does not count as taken)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
        return
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(
                    f"port {port} on {host} is already in use (another halobuzz serve?); "
                    f"stop it or pick another with --port"
                )
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _serve_edge(data_dir, host, port, log_format, shard) -> None:
    """`serve --edge --shard B`: websockets for B's rooms, fed by B's appliance over NATS (realtime/edge.py)."""
    from ..errors import DomainError
    from ..realtime.edge import build_edge_app
    from ..shards.shardmap import ShardMapError

    if not shard:
        fail("--edge needs --shard NAME (the shard whose rooms this edge serves)")
    settings = load_settings(data_dir, host=host, port=port, log_format=log_format, shard_id=shard)
    applog.configure(settings.log_level, settings.log_format)
    try:
        app = build_edge_app(settings)
    except (ShardMapError, DomainError) as exc:
        fail(str(exc))
    _port_free_or_fail(settings.host, settings.port)
    click.echo(f"HaloBuzz edge for shard {shard} on http://{settings.host}:{settings.port}", err=True)
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)


def _close_if_open(sv) -> None:
    """A stop signal that lands while after_server_start listeners still run makes Sanic skip
    every stop listener ("Event loop stopped before Future completed"). Close the database
    here (idempotent after a normal stop), or its non-daemon reader threads keep the process
    alive forever after serve returns. A Litestream child gets SIGTERM when we exit."""
    import asyncio

    try:
        asyncio.run(sv.db.close())
    except Exception as exc:  # exiting anyway: report, do not mask the original error
        click.echo(f"warning: closing the database at exit failed: {exc}", err=True)
