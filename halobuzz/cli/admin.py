"""Operator commands on users and the audit log. They work with the server stopped or running."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click

from ..accounts import audit, users
from ..errors import DomainError
from ..infra.clock import Clock
from ..infra.crypto import hash_password
from ..infra.ids import IdFactory, SystemRandom
from .common import cli_actor, data_dir_option, fail, load_settings, reader_for, run, writer_for


@click.group()
def user():
    """Create, list, promote and ban users."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--country", default="NP", show_default=True)
@click.option("--birth-date", default="1990-01-01", show_default=True)
@click.option("--role", type=click.Choice(["user", "host", "moderator", "admin"]), default="user", show_default=True)
@data_dir_option
def user_create(email, username, password, country, birth_date, role, data_dir):
    """Create an account.

    \b
    Example:
      halobuzz user create --email ops@example.com --username ops --role admin
    """
    settings = load_settings(data_dir)
    clock = Clock()
    try:
        new = users.validate_new_user(
            users.NewUser(email, username, password, country, birth_date), clock.now().date(), settings.min_age
        )
    except DomainError as exc:
        fail("; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message)
    pw = hash_password(password, settings.bcrypt_rounds)
    user_id = IdFactory(clock, SystemRandom()).new()
    actor = cli_actor()

    def unit(conn):
        users.insert_user(conn, user_id, new, pw, clock.now(), role)
        audit.record(
            conn,
            actor,
            "user.create",
            target_type="user",
            target_id=user_id,
            after={"email": new.email, "username": new.username, "role": role},
            at=_now(clock),
        )

    with writer_for(settings) as w:
        run(w, unit)
    click.echo(f"created {new.username} ({user_id}) as {role}")


@user.command("list")
@click.option("--query", "-q", default=None, help="Part of a username or email")
@click.option("--role", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line")
@data_dir_option
def user_list(query, role, limit, as_json, data_dir):
    """List users.

    \b
    Example:
      halobuzz user list -q demo --role host
    """
    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        rows = users.listing(conn, query=query, role=role, limit=limit)
    for r in rows:
        if as_json:
            click.echo(json.dumps({k: r[k] for k in ("id", "username", "email", "role", "status", "country")}))
        else:
            click.echo(f"{r['id']}  {r['username']:<20} {r['email']:<32} {r['role']:<10} {r['status']}")


@user.command("set-role")
@click.argument("who")
@click.argument("role", type=click.Choice(["user", "host", "moderator", "admin"]))
@data_dir_option
def user_set_role(who, role, data_dir):
    """Change a user's role (WHO is an id, email or username).

    \b
    Example:
      halobuzz user set-role alice@example.com moderator
    """
    settings = load_settings(data_dir)
    clock = Clock()
    with writer_for(settings) as w:
        out = run(w, lambda conn: users.set_role(conn, who, role, cli_actor(), clock.now()))
    click.echo(f"{out['id']} is now {role}")


@user.command("ban")
@click.argument("who")
@click.option("--reason", default=None)
@click.option("--days", type=int, default=None, help="Suspend for N days instead of banning")
@click.option("--lift", is_flag=True, help="Lift a ban or suspension")
@data_dir_option
def user_ban(who, reason, days, lift, data_dir):
    """Ban (or suspend, or un-ban) a user; their sessions end at once.

    \b
    Example:
      halobuzz user ban spammer42 --reason spam --days 7
    """
    settings = load_settings(data_dir)
    clock = Clock()
    now = clock.now()
    status = "active" if lift else ("suspended" if days else "banned")
    until = now + timedelta(days=days) if days and not lift else None
    with writer_for(settings) as w:
        out = run(w, lambda conn: users.set_status(conn, who, status, cli_actor(), now, reason=reason, until=until))
    click.echo(f"{out['id']} is now {status}" + (f" until {until:%Y-%m-%d %H:%M}Z" if until else ""))


@click.group("audit")
def audit_group():
    """Read the admin audit log."""


@audit_group.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--action", default=None, help="Only this action, e.g. user.ban")
@click.option("--target", default=None, help="Only entries about this target id")
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def audit_list(limit, action, target, as_json, data_dir):
    """Show recent admin actions, newest first.

    \b
    Example:
      halobuzz audit list --action user.ban --limit 20
    """
    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        rows = audit.entries(conn, limit=limit, action=action, target_id=target)
    for e in rows:
        if as_json:
            click.echo(json.dumps(e))
        else:
            click.echo(
                f"{e['at']}  {e['actor']:<24} {e['action']:<22} {e['targetType'] or '-'}:"
                f"{e['targetId'] or '-'}  {json.dumps(e['before'])} -> {json.dumps(e['after'])}"
            )


@audit_group.command("verify")
@data_dir_option
def audit_verify(data_dir):
    """Walk the audit log's hash chain; exit 1 if a row was edited, inserted or deleted.

    \b
    Example:
      halobuzz audit verify --data-dir ./data
    """
    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        chained, legacy, problems = audit.verify(conn)
    click.echo(f"{chained} chained row(s), {legacy} from before the chain")
    for problem in problems:
        click.echo(f"PROBLEM {problem}")
    sys.exit(1 if problems else 0)


def _now(clock: Clock) -> str:
    from ..infra.clock import iso

    return iso(clock.now())
