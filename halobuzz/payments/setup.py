"""Builds the Payments service from settings: gateways, packs, live-mode checks; the doctor check."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx

from ..config import ConfigError, Settings
from ..og import tiers as og_tiers
from . import packs as packs_mod
from .gateways import esewa, khalti, stripe
from .service import Payments

_SANDBOX_HOSTS = (
    "rc-epay.esewa.com.np",
    "rc.esewa.com.np",
    "uat.esewa.com.np",
    "dev.khalti.com",
    "a.khalti.com",
    "test-pay.khalti.com",
    "127.0.0.1",
    "localhost",
    "::1",
)


def live_problems(s: Settings) -> list[str]:
    """In live mode the published test keys, sandbox hosts and simulators are refused."""
    if s.payments_mode != "live":
        return []
    problems = []
    if s.esewa_secret_key == esewa.PUBLISHED_UAT_KEY or s.esewa_product_code == esewa.PUBLISHED_PRODUCT_CODE:
        problems.append("eSewa: the published UAT key / EPAYTEST product code cannot be used in live mode")
    if s.stripe_secret_key.startswith(("sk_test_", "rk_test_")) or s.stripe_secret_key.startswith("sk_sim"):
        problems.append("Stripe: a test secret key cannot be used in live mode")
    if s.stripe_webhook_secret in stripe.PUBLISHED_TEST_SECRETS:
        problems.append("Stripe: the published test webhook secret cannot be used in live mode")
    for name in ("esewa_form_url", "esewa_status_url", "khalti_api_base", "stripe_api_base"):
        host = urlparse(getattr(s, name)).hostname or ""
        if host in _SANDBOX_HOSTS:
            problems.append(f"{name}: {host} is a sandbox or simulator host")
    return problems


def build_gateways(s: Settings, http: httpx.AsyncClient) -> dict:
    gws: dict = {}
    if s.esewa_secret_key and s.esewa_product_code:
        gws["esewa"] = esewa.Esewa(s.esewa_product_code, s.esewa_secret_key, s.esewa_form_url, s.esewa_status_url, http)
    if s.khalti_secret_key:
        gws["khalti"] = khalti.Khalti(s.khalti_api_base, s.khalti_secret_key, http)
    if s.stripe_secret_key and s.stripe_webhook_secret:
        gws["stripe"] = stripe.StripeGateway(s.stripe_api_base, s.stripe_secret_key, s.stripe_webhook_secret)
    return gws


def build_payments(
    s: Settings, *, write, fetchall, cipher, clock, ids, metrics=None, http: httpx.AsyncClient | None = None
) -> Payments:
    """`write(unit, after=None)` and `fetchall(sql, params)`: the server's database, or the CLI's
    writer and read-only connection."""
    problems = live_problems(s)
    if s.payments_mode not in ("test", "live"):
        problems.append("payments_mode must be test or live")
    if problems:
        raise ConfigError("; ".join(problems))
    tiers = og_tiers.load(s.og_tiers)
    try:
        packs = packs_mod.load(s.payment_packs, tiers)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    http = http or httpx.AsyncClient(timeout=15.0)
    payments = Payments(
        write=write,
        fetchall=fetchall,
        cipher=cipher,
        clock=clock,
        ids=ids,
        settings=s,
        tiers=tiers,
        packs=packs,
        gateways=build_gateways(s, http),
        metrics=metrics,
    )
    if metrics is not None:
        for name in payments.gateways:  # export the revenue series at 0 so alert rules see them from the start
            for currency in {p.currency for p in packs.values() if name in p.gateways}:
                metrics.payments_revenue.labels(name, currency).inc(0)
    return payments


def open_orders_past_expiry(conn) -> list[str]:
    """Doctor check: orders nobody settled, and orders flagged for a human."""
    n = conn.execute(
        "SELECT count(*) FROM payment_orders WHERE status IN ('created','pending') "
        "AND expires_at < strftime('%Y-%m-%dT%H:%M:%fZ','now','-1 day')"
    ).fetchone()[0]
    review = conn.execute("SELECT count(*) FROM payment_orders WHERE needs_review = 1").fetchone()[0]
    out = []
    if n:
        out.append(f"{n} payment order(s) still open a day after expiry: run `halobuzz payments reconcile`")
    if review:
        out.append(f"{review} payment order(s) need review (`halobuzz payments orders --review`)")
    return out
