"""`halobuzz payments orders|events|reconcile|refund`: the operator's view of coin purchases."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys

import click

from .. import config
from ..accounts import audit
from ..db.connection import connect
from ..errors import DomainError
from ..infra.clock import Clock, iso
from ..infra.crypto import FieldCipher
from ..infra.ids import IdFactory, SystemRandom
from ..payments import store
from .common import cli_actor, data_dir_option, fail, load_settings, writer_for


def _service(settings, writer):
    from ..payments.setup import build_payments

    conn = connect(settings.db_path, readonly=True)

    async def fetchall(sql, params=()):
        return conn.execute(sql, params).fetchall()

    async def write(fn, after=None):
        result = await asyncio.wrap_future(writer.submit(fn))
        if after is not None:
            after(result)
        return result

    keys, active = config.field_keys(settings)
    clock = Clock()
    try:
        return build_payments(
            settings,
            write=write,
            fetchall=fetchall,
            cipher=FieldCipher(keys, active),
            clock=clock,
            ids=IdFactory(clock, SystemRandom()),
        )
    except config.ConfigError as exc:
        fail(str(exc))


def _read(settings, sql, params):
    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path}")
    conn = connect(settings.db_path, readonly=True)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        fail(f"{exc} (run `halobuzz migrate`)")
    finally:
        conn.close()


@click.group()
def payments():
    """Coin purchase orders, the gateway event log, reconciliation and refunds."""


@payments.command("orders")
@click.option("--status", default=None)
@click.option("--gateway", type=click.Choice(["esewa", "khalti", "stripe"]), default=None)
@click.option("--review", is_flag=True, help="Only orders an operator should look at")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def orders(status, gateway, review, limit, as_json, data_dir):
    """List orders, newest first.

    \b
    Example:
      halobuzz payments orders --status pending --gateway esewa
    """
    settings = load_settings(data_dir)
    sql, params = "SELECT * FROM payment_orders WHERE 1=1", []
    for col, val in (("status", status), ("gateway", gateway)):
        if val:
            sql += f" AND {col} = ?"
            params.append(val)
    if review:
        sql += " AND needs_review = 1"
    for r in _read(settings, sql + " ORDER BY id DESC LIMIT ?", (*params, limit)):
        o = store.order_json(r, admin=True)
        if as_json:
            click.echo(json.dumps(o))
        else:
            click.echo(
                f"{o['id']}  {o['gateway']:<6} {o['status']:<18} {o['currency']} {o['amount']:>8}  "
                f"{o['coins']:>7} coins  user {o['userId']}  {o['createdAt']}"
                + (f"  REVIEW: {o['note']}" if o["needsReview"] else "")
            )


@payments.command("events")
@click.option("--gateway", type=click.Choice(["esewa", "khalti", "stripe"]), default=None)
@click.option("--verdict", default=None)
@click.option("--order", default=None)
@click.option("--payload", is_flag=True, help="Decrypt and show the raw payloads")
@click.option("--limit", default=50, show_default=True)
@data_dir_option
def events(gateway, verdict, order, payload, limit, data_dir):
    """The gateway event log: every callback/webhook and what was made of it.

    \b
    Example:
      halobuzz payments events --verdict rejected --gateway stripe
    """
    settings = load_settings(data_dir)
    sql, params = "SELECT * FROM payment_events WHERE 1=1", []
    for col, val in (("gateway", gateway), ("verdict", verdict), ("order_id", order)):
        if val:
            sql += f" AND {col} = ?"
            params.append(val)
    cipher = FieldCipher(*config.field_keys(settings)) if payload else None
    for r in _read(settings, sql + " ORDER BY id DESC LIMIT ?", (*params, limit)):
        click.echo(json.dumps(store.event_json(r, cipher)))


@payments.command("reconcile")
@click.option("--order", "order_id", default=None, help="Check just this order now")
@data_dir_option
def reconcile(order_id, data_dir):
    """Ask the gateways about pending orders and recently completed ones (refunds).

    \b
    Example:
      halobuzz payments reconcile
      halobuzz payments reconcile --order 01J...
    """
    settings = load_settings(data_dir)
    actor = cli_actor()
    failures: list[dict[str, str]] = []
    with writer_for(settings) as w:
        svc = _service(settings, w)
        try:
            counts = asyncio.run(svc.reconcile(order_id, failures=failures))
        except DomainError as exc:
            fail(exc.message)
        w.write_sync(
            lambda conn: audit.record(
                conn,
                actor,
                "payments.reconcile",
                target_type="payment_order",
                target_id=order_id,
                after=counts,
                at=iso(Clock().now()),
            )
        )
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    for f in failures:
        click.echo(f"  {f['order']} ({f['gateway']}): {f['problem']}")
    if order_id and failures:
        sys.exit(1)


@payments.command("refund")
@click.argument("order_id")
@click.option("--reason", required=True)
@click.option("--amount", type=click.IntRange(1), default=None, help="Minor units (default: all not yet refunded)")
@data_dir_option
def refund(order_id, reason, amount, data_dir):
    """Record a refund made at the gateway: claws the coins back (audited).

    \b
    Example:
      halobuzz payments refund 01J... --reason "refunded from the eSewa merchant panel"
    """
    settings = load_settings(data_dir)
    with writer_for(settings) as w:
        svc = _service(settings, w)
        try:
            out = asyncio.run(svc.manual_refund(order_id, amount, reason, cli_actor()))
        except DomainError as exc:
            fail(exc.message)
    click.echo(f"{out['verdict']}: {out['reason']} (order {out['order']['status']})")
