"""`halobuzz coins grant|revoke` and `halobuzz ledger verify`."""

from __future__ import annotations

import sys
import uuid

import click

from ..accounts import audit, users
from ..db.connection import connect
from ..economy.service import adjust_audited
from ..infra.clock import Clock, iso
from ..wallet import ledger, wallet
from .common import cli_actor, data_dir_option, fail, load_settings, run, writer_for


@click.group()
def coins():
    """Grant or revoke coins (audited, through the ledger)."""


def _adjust(who: str, amount: int, bucket: str, reason: str, data_dir: str, key: str | None) -> None:
    settings = load_settings(data_dir)
    clock = Clock()
    actor = cli_actor()
    tx_key = f"adjust:{key or uuid.uuid4().hex}"

    def unit(conn):
        user = users.find(conn, who)
        already = ledger.tx_exists(conn, tx_key)
        if already is None:
            adjust_audited(conn, tx_key, user["id"], amount, bucket, reason, actor, clock.now())
        return user["username"], wallet.view(conn, user["id"]), already

    with writer_for(settings) as w:
        name, view, already = run(w, unit)
    if already is not None:
        click.echo(f"already applied with --key {key} (transaction {already}); nothing changed")
    click.echo(f"{name}: balance {view['balance']}, bonus {view['bonusBalance']}")


@coins.command("limit")
@click.option("--user", "who", required=True, help="User id, email or username")
@click.option(
    "--daily",
    type=click.IntRange(0, 10_000_000),
    required=True,
    help="Coins per UTC day (0 = back to the default for the user's age)",
)
@click.option(
    "--lock/--no-lock", default=True, show_default=True, help="Locked: the user can only lower it (parental lock)"
)
@data_dir_option
def limit(who, daily, lock, data_dir):
    """Set a user's daily spend cap, as an admin (audited).

    \b
    Example:
      halobuzz coins limit --user kiran --daily 500 --lock
    """
    settings = load_settings(data_dir)
    clock = Clock()
    actor = cli_actor()

    def unit(conn):
        user = users.find(conn, who)
        before = (user["daily_spend_limit"], bool(user["spend_limit_locked"]))
        wallet.set_daily_limit(conn, user["id"], daily or None, by_admin=True, lock=lock)
        audit.record(
            conn,
            actor,
            "wallet.set_limit",
            target_type="user",
            target_id=user["id"],
            before={"dailySpendLimit": before[0], "locked": before[1]},
            after={"dailySpendLimit": daily or None, "locked": lock},
            at=iso(clock.now()),
        )
        return user["username"]

    with writer_for(settings) as w:
        name = run(w, unit)
    click.echo(f"{name}: daily limit {daily or 'default'}{' (locked)' if lock else ''}")


@coins.command("grant")
@click.option("--user", "who", required=True, help="User id, email or username")
@click.option("--amount", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--reason", required=True)
@click.option("--bucket", type=click.Choice(["paid", "bonus"]), default="paid", show_default=True)
@click.option("--key", default=None, help="Idempotency key: the same key never grants twice")
@data_dir_option
def grant(who, amount, reason, bucket, key, data_dir):
    """Give a user coins.

    \b
    Example:
      halobuzz coins grant --user alice --amount 500 --reason "festival prize"
    """
    _adjust(who, amount, bucket, reason, data_dir, key)


@coins.command("revoke")
@click.option("--user", "who", required=True)
@click.option("--amount", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--reason", required=True)
@click.option("--bucket", type=click.Choice(["paid", "bonus"]), default="paid", show_default=True)
@click.option("--key", default=None)
@data_dir_option
def revoke(who, amount, reason, bucket, key, data_dir):
    """Take coins back from a user (the balance may go negative).

    \b
    Example:
      halobuzz coins revoke --user alice --amount 500 --reason "granted by mistake"
    """
    _adjust(who, -amount, bucket, reason, data_dir, key)


@click.group("ledger")
def ledger_group():
    """Inspect the coin ledger."""


@ledger_group.command("verify")
@data_dir_option
def verify(data_dir):
    """Check the hash chain, that every transaction sums to zero and balances equal ledger sums.

    \b
    Example:
      halobuzz ledger verify --data-dir ./data
    """
    settings = load_settings(data_dir)
    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path}")
    conn = connect(settings.db_path, readonly=True)
    try:
        problems = ledger.verify_chain(conn) + ledger.verify_balances(conn)
        entries = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
        txs = conn.execute("SELECT count(*) FROM ledger_tx").fetchone()[0]
    finally:
        conn.close()
    for p in problems:
        click.echo(f"PROBLEM: {p}")
    click.echo(f"{txs} transactions, {entries} entries: {'ok' if not problems else 'FAILED'}")
    sys.exit(1 if problems else 0)
