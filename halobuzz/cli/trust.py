"""`halobuzz trust show|verify|unverify` (verification is audited)."""

from __future__ import annotations

import click

from ..accounts import users
from ..infra.clock import Clock
from ..trust import service, signals
from .common import cli_actor, data_dir_option, load_settings, reader_for, run, writer_for


@click.group()
def trust() -> None:
    """Trust scores: what moved them, and admin verification."""


@trust.command("show")
@click.argument("user")
@data_dir_option
def show(user, data_dir):
    """A user's trust score, level and every contribution.

    \b
    Example:
      halobuzz trust show kiran
    """
    with reader_for(load_settings(data_dir)) as conn:
        row = run_read(lambda: users.find(conn, user))
        out = signals.explain(conn, row["id"], Clock().now())
    click.echo(f"{row['username']}: {out['score']} ({out['level']})")
    for c in out["contributions"]:
        click.echo(f"  {c['points']:+4d}  {c['kind']:<22} {c['detail']}")


def run_read(fn):
    from ..errors import DomainError
    from .common import fail

    try:
        return fn()
    except DomainError as exc:
        fail(exc.message)


def _set(user: str, verified: bool, note: str | None, data_dir: str) -> None:
    settings = load_settings(data_dir)
    actor, clock = cli_actor(), Clock()
    with writer_for(settings) as w:
        out = run(
            w, lambda conn: service.set_verified(conn, users.find(conn, user)["id"], verified, actor, clock.now(), note)
        )
    click.echo(f"{user}: {out['score']} ({out['level']})")


@trust.command("verify")
@click.argument("user")
@click.option("--note", help="Why (kept in the audit log)")
@data_dir_option
def verify(user, note, data_dir):
    """Verify a user (audited): their level becomes `verified` while their score is at least medium.

    \b
    Example:
      halobuzz trust verify kiran --note "ID checked"
    """
    _set(user, True, note, data_dir)


@trust.command("unverify")
@click.argument("user")
@click.option("--note", help="Why (kept in the audit log)")
@data_dir_option
def unverify(user, note, data_dir):
    """Take a verification back (audited)."""
    _set(user, False, note, data_dir)
