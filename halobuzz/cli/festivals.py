"""`halobuzz festivals list|templates|add|edit|cancel|leaderboard` (admin changes are audited).

Works while the server runs: the server's `festival_schedule` job announces a start or end
made here within `festival_check_seconds`.
"""

from __future__ import annotations

import click

from ..festivals import calendar, store
from ..infra.clock import Clock
from .common import cli_actor, data_dir_option, load_settings, reader_for, run, writer_for


@click.group()
def festivals() -> None:
    """Festivals: Dashain, Tihar, Holi, Christmas, New Year and custom ones."""


def _line(f: dict) -> str:
    bonus = f"gift +{f['giftBonusBps'] / 100:g}% purchase +{f['purchaseBonusBps'] / 100:g}%"
    bs = f" (BS {f['bsStart']})" if f["bsStart"] else ""
    return (
        f"{f['id']:<24} {f['status']:<9} {f['startsLocal']} .. {f['endsLocal']} {f['tz']}{bs}  {bonus}  "
        f"{f['name']['en']} / {f['name']['ne']}"
    )


@festivals.command("list")
@click.option("--all", "everything", is_flag=True, help="Include festivals that have ended")
@data_dir_option
def list_(everything, data_dir):
    """Active and upcoming festivals.

    \b
    Example:
      halobuzz festivals list --all
    """
    with reader_for(load_settings(data_dir)) as conn:
        items = store.listing(conn, Clock().now(), include_past=everything)
    for f in items:
        click.echo(_line(f))
    if not items:
        click.echo("no festivals")


@festivals.command("templates")
def templates():
    """Built-in festivals and the years with published Bikram Sambat dates."""
    for name, t in calendar.TEMPLATES.items():
        years = sorted(y for k, y in calendar.LUNAR_DATES if k == name)
        when = f"BS years {years}" if years else ("any BS year" if name == "nepali-new-year" else "any year")
        click.echo(f"{name:<16} {t.name_en} / {t.name_ne}  ({when}; gifts {', '.join(t.gift_ids)})")


_fields = [
    click.option("--name-en"),
    click.option("--name-ne"),
    click.option("--banner-en"),
    click.option("--banner-ne"),
    click.option("--start", "starts_local", help="Local start YYYY-MM-DDTHH:MM in --tz"),
    click.option("--end", "ends_local", help="Local end (exclusive) YYYY-MM-DDTHH:MM in --tz"),
    click.option("--tz", help="IANA zone (default Asia/Kathmandu)"),
    click.option("--gift-bonus-bps", type=int, help="Bonus on gifts, basis points (1000 = +10 %)"),
    click.option("--purchase-bonus-bps", type=int, help="Bonus on coin purchases, basis points"),
    click.option("--gift", "gift_ids", multiple=True, help="Themed gift id (repeat)"),
]


def _with_fields(fn):
    for opt in reversed(_fields):
        fn = opt(fn)
    return fn


def _changes(**kw) -> dict:
    out = {k: v for k, v in kw.items() if v not in (None, ())}
    if "gift_ids" in out:
        out["gift_ids"] = tuple(out["gift_ids"])
    return out


@festivals.command("add")
@click.argument("template", type=click.Choice([*calendar.TEMPLATES, "custom"]))
@click.option("--year", type=int, help="BS year (Dashain, Tihar, Holi, Nepali New Year) or AD year")
@click.option("--id", "festival_id", help="Festival id (default <template>-<year>)")
@click.option("--bs-start", help="First day in Bikram Sambat, YYYY-MM-DD (for a year not shipped)")
@click.option("--bs-end", help="Last day in Bikram Sambat, YYYY-MM-DD")
@_with_fields
@data_dir_option
def add(template, year, festival_id, bs_start, bs_end, data_dir, **fields):
    """Add a festival (audited).

    \b
    Examples:
      halobuzz festivals add dashain --year 2083
      halobuzz festivals add tihar --year 2084 --bs-start 2084-07-08 --bs-end 2084-07-12
      halobuzz festivals add custom --id launch-week --name-en Launch --name-ne सुरुवात \\
          --banner-en "Launch week!" --banner-ne "सुरुवात हप्ता!" --start 2027-01-10T00:00 --end 2027-01-17T00:00
    """
    changes = _changes(**fields)
    if template == "custom":
        spec = store.FestivalSpec(
            id=festival_id or "",
            kind="custom",
            name_en=changes.pop("name_en", ""),
            name_ne=changes.pop("name_ne", ""),
            banner_en=changes.pop("banner_en", ""),
            banner_ne=changes.pop("banner_ne", ""),
            starts_local=changes.pop("starts_local", ""),
            ends_local=changes.pop("ends_local", ""),
            **changes,
        )
    else:
        if year is None and not bs_start:
            raise click.UsageError("--year is required (or --bs-start/--bs-end)")
        spec = _run_spec(
            lambda: store.from_template(
                template,
                year if year is not None else int(bs_start[:4]),
                festival_id=festival_id,
                bs_start=bs_start,
                bs_end=bs_end,
                **changes,
            )
        )
    settings = load_settings(data_dir)
    actor, clock = cli_actor(), Clock()
    with writer_for(settings) as w:
        out = run(w, lambda conn: store.create(conn, spec, actor, clock.now()))
    click.echo(_line(out))


def _run_spec(build):
    from ..errors import DomainError
    from .common import fail

    try:
        return build()
    except DomainError as exc:
        fail(exc.message)


@festivals.command("edit")
@click.argument("festival_id")
@_with_fields
@data_dir_option
def edit(festival_id, data_dir, **fields):
    """Change a festival (audited).

    \b
    Example:
      halobuzz festivals edit christmas-2026 --gift-bonus-bps 2000 --banner-en "Merry Christmas!"
    """
    changes = _changes(**fields)
    if not changes:
        raise click.UsageError("nothing to change")
    settings = load_settings(data_dir)
    actor, clock = cli_actor(), Clock()
    with writer_for(settings) as w:
        out = run(w, lambda conn: store.update(conn, festival_id, changes, actor, clock.now()))
    click.echo(_line(out))


@festivals.command("cancel")
@click.argument("festival_id")
@data_dir_option
def cancel(festival_id, data_dir):
    """Cancel a festival (audited); bonuses already paid stay paid.

    \b
    Example:
      halobuzz festivals cancel holi-2083
    """
    settings = load_settings(data_dir)
    actor, clock = cli_actor(), Clock()
    with writer_for(settings) as w:
        out = run(w, lambda conn: store.cancel(conn, festival_id, actor, clock.now()))
    click.echo(_line(out))


@festivals.command("leaderboard")
@click.argument("festival_id")
@click.option("--role", type=click.Choice(["gifter", "host"]), default="gifter", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@data_dir_option
def leaderboard(festival_id, role, limit, data_dir):
    """Top gifters (or receiving hosts) of a festival.

    \b
    Example:
      halobuzz festivals leaderboard dashain-2083 --role host
    """
    with reader_for(load_settings(data_dir)) as conn:
        rows = store.leaderboard(conn, festival_id, role, limit)
    for r in rows:
        click.echo(f"{r['rank']:>3}. {r['username']:<24} {r['coins']:>10} coins")
    if not rows:
        click.echo("nobody yet")
