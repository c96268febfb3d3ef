"""`halobuzz games verify ROUND|report` and `halobuzz compliance show CC`."""

from __future__ import annotations

import json as jsonlib

import click

from ..games import rates
from ..games import verify as verifier
from ..games.compliance import Packs
from ..games.quizbank import Bank
from ..games.service import rules_from, stored_overrides
from ..infra.clock import Clock
from ..resources import assets_dir
from .common import data_dir_option, fail, load_settings, reader_for


@click.group()
def games() -> None:
    """Provably fair games: verify a round, report the AI win rate."""


@games.command("verify")
@click.argument("round_id")
@data_dir_option
def verify(round_id: str, data_dir: str) -> None:
    """Recompute a finished round from its revealed seed and check its outcome.

    \b
    Example:
      halobuzz games verify 01J8Z3K6W3S0ZC5XQ1B2C3D4E5
    """
    from ..errors import NotFound

    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        try:
            problems = verifier.check(conn, round_id, Bank.load(assets_dir() / "games" / "quiz"))
        except NotFound:
            fail(f"no round {round_id}")
            return
        from ..games import rounds

        p = rounds.proof(conn, round_id)
    if problems:
        for line in problems:
            click.echo(f"FAIL {line}", err=True)
        raise SystemExit(1)
    click.echo(f"OK {round_id} ({p['game']}): seed commitment, client seeds and {len(p['draws'])} draws verify")


@games.command("report")
@click.option(
    "--window", type=click.Choice(list(rates.WINDOWS)), default=None, help="One window (default: 24h, 7d and all)"
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@data_dir_option
def report(window: str | None, as_json: bool, data_dir: str) -> None:
    """Configured AI win rate p vs observed, with 99 % Wilson intervals.

    \b
    Example:
      halobuzz games report --window 24h
    """
    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        current = rules_from(settings, stored_overrides(conn)).ai_win_bps
        rows = rates.report(conn, Clock().now(), current, (window,) if window else ("24h", "7d", "all"))
    if as_json:
        click.echo(jsonlib.dumps(rows, indent=2))
        return
    click.echo(f"{'game':<10} {'window':<6} {'p':>6} {'rounds':>7} {'observed':>9} {'99% Wilson':>17}  status")
    bad = False
    for r in rows:
        low, high = r["wilson99"]
        obs = f"{r['observed']:.4f}" if r["observed"] is not None else "-"
        status = "OUT OF BAND" if r["outOfBand"] else ("ok" if r["rounds"] else "no rounds")
        bad = bad or r["outOfBand"]
        click.echo(
            f"{r['game']:<10} {r['window']:<6} {r['configuredP']:>6.2f} {r['rounds']:>7} {obs:>9} "
            f"[{low:.4f}, {high:.4f}]  {status}"
        )
    if bad:
        raise SystemExit(2)


@click.group()
def compliance() -> None:
    """Per-country compliance packs (assets/compliance/<CC>.toml, overrides in halobuzz.toml)."""


@compliance.command("show")
@click.argument("country")
@data_dir_option
def show(country: str, data_dir: str) -> None:
    """Show the pack that applies to a country, with the operator's overrides.

    \b
    Example:
      halobuzz compliance show NP
    """
    from ..errors import Invalid

    settings = load_settings(data_dir)
    try:
        packs = Packs.load(assets_dir() / "compliance", settings.games_compliance)
        pack = packs.for_country(country)
    except Invalid as exc:
        fail(exc.message)
        return
    except ValueError as exc:
        fail(str(exc))
        return
    click.echo(f"{pack.country}: {pack.name} ({pack.currency})")
    for key, value in pack.__dict__.items():
        if key in ("country", "name", "currency"):
            continue
        mark = "  (override)" if key in packs.overrides.get(pack.country, {}) else ""
        click.echo(f"  {key:<24} {str(value).lower() if isinstance(value, bool) else value}{mark}")
