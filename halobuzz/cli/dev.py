"""`halobuzz dev gateways`: local eSewa, Khalti and Stripe simulators for trying payments offline."""

from __future__ import annotations

import click


@click.group()
def dev():
    """Developer tools."""


@dev.command("gateways")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on")
@click.option("--port", default=9090, show_default=True, type=int)
@click.option(
    "--stripe-webhook-url",
    default="http://127.0.0.1:8080/api/v1/payments/stripe/webhook",
    show_default=True,
    help="Where simulated Stripe events are posted",
)
@click.option("--khalti-key", default="test_secret_key_halobuzz_sim", show_default=True)
@click.option("--stripe-key", default="sk_test_halobuzz_sim", show_default=True)
@click.option("--stripe-webhook-secret", default="whsec_halobuzz_sim", show_default=True)
@click.option(
    "--retry-delays",
    default="1,5,25,125",
    show_default=True,
    help="Seconds between Stripe webhook retries (live Stripe: up to 3 days)",
)
@click.option("--print-env", is_flag=True, help="Only print the settings that point HaloBuzz here")
def gateways(host, port, stripe_webhook_url, khalti_key, stripe_key, stripe_webhook_secret, retry_delays, print_env):
    """Start eSewa, Khalti and Stripe simulators on one loopback port.

    They speak the documented protocols (fields, signatures, statuses, error codes,
    Stripe-Signature and webhook retries). Point a server at them with the printed
    environment, then buy coins in the console and press Pay on the simulated pages.

    \b
    Example:
      halobuzz dev gateways --port 9090 &
      eval "$(halobuzz dev gateways --port 9090 --print-env)" && halobuzz serve
    """
    from ..simulators.core import SimConfig
    from ..simulators.server import build_app, settings_env

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.BadParameter("the simulators listen on loopback only", param_hint="--host")
    try:
        delays = tuple(float(x) for x in retry_delays.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter("comma-separated seconds", param_hint="--retry-delays") from None
    cfg = SimConfig(
        base_url=f"http://{host}:{port}",
        khalti_secret=khalti_key,
        stripe_secret=stripe_key,
        stripe_webhook_secret=stripe_webhook_secret,
        stripe_webhook_url=stripe_webhook_url,
        stripe_retry_delays=delays,
    )
    env = settings_env(cfg)
    if print_env:
        for k, v in env.items():
            click.echo(f"export {k}='{v}'")
        return
    click.echo(f"gateway simulators on http://{host}:{port} (Stripe webhooks -> {stripe_webhook_url})")
    for k, v in env.items():
        click.echo(f"  {k}={v}")
    app = build_app(cfg)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
