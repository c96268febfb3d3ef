"""`halobuzz shards init|pubkey|add|sign|show|verify|reconcile`: the signed shard map and its books.

The operator keeps the operator private key off the shards; each shard is given the map
file and the operator's PUBLIC key, and refuses to start if the map does not verify.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import config
from ..shards import shardmap, transfers
from ..shards.shardmap import ShardMapError
from .common import data_dir_option, fail, load_settings, reader_for

map_option = click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False),
    envvar="HALOBUZZ_SHARD_MAP",
    default="shards.json",
    show_default=True,
    help="The shard map file (JSON)",
)
operator_key_option = click.option(
    "--operator-key",
    type=click.Path(dir_okay=False),
    required=True,
    help="The operator's Ed25519 private key (PEM); keep it off the shards",
)


@click.group("shards")
def shards() -> None:
    """Country shards: the signed shard map and cross-shard gift books.

    \b
    Example (operator machine):
      halobuzz shards init --operator-key operator.pem
      halobuzz shards pubkey --data-dir /srv/np          # on each shard; prints its public key
      halobuzz shards add np --countries NP,BD --url https://np.example --public-key <key>
      halobuzz shards sign --operator-key operator.pem
      halobuzz shards verify --operator <operator public key>
    """


@shards.command("init")
@map_option
@operator_key_option
def init(map_path: str, operator_key: str) -> None:
    """Create the operator key (if absent) and an empty, unsigned map."""
    key_path, path = Path(operator_key), Path(map_path)
    if path.exists():
        fail(f"{path} already exists")
    if key_path.exists():
        key = _operator(key_path)
    else:
        key = Ed25519PrivateKey.generate()
        shardmap.write_private(key_path, key)
        click.echo(f"created operator key {key_path} (mode 0600)")
    shardmap.write(path, shardmap.new_map(key.public_key()))
    click.echo(f"created {path}")
    click.echo(f"operator public key (give it to every shard): {shardmap.public_b64(key.public_key())}")


@shards.command("pubkey")
@data_dir_option
def pubkey(data_dir: str) -> None:
    """Print this shard's public token/message key (base64) for `shards add --public-key`."""
    settings = load_settings(data_dir)
    click.echo(shardmap.public_b64(config.signing_key(settings).public_key()))


@shards.command("add")
@click.argument("name")
@click.option("--countries", required=True, help="ISO 3166-1 alpha-2 codes, comma separated (NP,BD)")
@click.option("--url", required=True, help="Public URL of the shard (redirects point there)")
@click.option(
    "--public-key",
    required=True,
    help="The shard's Ed25519 public key: base64 (from `shards pubkey`) or a PEM file path",
)
@map_option
def add(name: str, countries: str, url: str, public_key: str, map_path: str) -> None:
    """Add or replace a shard. The map is unsigned until `shards sign`."""
    path = Path(map_path)
    key_text = Path(public_key).read_text() if Path(public_key).is_file() else public_key
    try:
        m = shardmap.read(path).with_shard(shardmap.new_shard(name, countries.split(","), url, key_text))
    except ShardMapError as exc:
        fail(str(exc))
    shardmap.write(path, m)
    click.echo(
        f"{name}: {', '.join(m.shard(name).countries)} at {m.shard(name).url} (map now unsigned: "
        "run `halobuzz shards sign`)"
    )


@shards.command("sign")
@map_option
@operator_key_option
def sign(map_path: str, operator_key: str) -> None:
    """Sign the map with the operator key (bumps its version)."""
    path = Path(map_path)
    try:
        m = shardmap.read(path).signed(_operator(Path(operator_key)))
    except ShardMapError as exc:
        fail(str(exc))
    shardmap.write(path, m)
    click.echo(f"signed {path}: version {m.version}, {len(m.shards)} shard(s)")


@shards.command("show")
@map_option
@click.option("--json", "as_json", is_flag=True, help="Print the map as JSON")
def show(map_path: str, as_json: bool) -> None:
    """Print the map (signature NOT checked: use `shards verify`)."""
    try:
        m = shardmap.read(Path(map_path))
    except ShardMapError as exc:
        fail(str(exc))
    if as_json:
        click.echo(m.dumps(), nl=False)
        return
    click.echo(f"version {m.version}, {'signed' if m.signature else 'UNSIGNED'}, operator {m.operator}")
    for s in sorted(m.shards, key=lambda s: s.name):
        click.echo(
            f"  {s.name:<10} {','.join(s.countries):<20} {s.url}  gifts={s.subjects['gifts']}  key={s.public_key}"
        )


@shards.command("verify")
@map_option
@click.option(
    "--operator",
    envvar="HALOBUZZ_SHARD_OPERATOR_KEY",
    required=True,
    help="The operator public key this shard trusts (base64 or PEM file)",
)
@click.option("--shard", default=None, help="Also require this shard to be in the map")
def verify(map_path: str, operator: str, shard: str | None) -> None:
    """Check the map's signature against the trusted operator key; exit 1 if it fails."""
    trusted = Path(operator).read_text() if Path(operator).is_file() else operator
    try:
        m = shardmap.load_verified(Path(map_path), shardmap.public_b64(shardmap.load_public(trusted)), shard)
    except ShardMapError as exc:
        fail(str(exc))
    click.echo(f"ok: version {m.version}, {len(m.shards)} shard(s), signed by {m.operator}")


@shards.command("reconcile")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
def reconcile(data_dir: str, as_json: bool) -> None:
    """Prove each transit account equals its open transfers (zero when none) and list gifts in flight.

    Exit 1 if a transit account disagrees with the transfers it should hold.
    """
    settings = load_settings(data_dir)
    with reader_for(settings) as conn:
        report = transfers.reconcile(conn)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for name, p in sorted(report["peers"].items()):
            click.echo(
                f"{name}: transit {p['transit']} (open transfers {p['open']}, {p['openCoins']} coins), "
                f"exported {p['exported']}, imported {p['imported']}"
            )
        for t in report["inFlight"]:
            click.echo(
                f"  in flight: {t['id']} -> {t['shard']} {t['coins']} coins, {t['status']} since "
                f"{t['createdAt']} (deadline {t['deadline']})"
            )
        click.echo(f"outbox messages not yet published: {report['outboxUnsent']}")
        for p in report["problems"]:
            click.echo(f"PROBLEM: {p}", err=True)
        click.echo("ok" if report["ok"] else "NOT OK")
    sys.exit(0 if report["ok"] else 1)


def _operator(path: Path) -> Ed25519PrivateKey:
    try:
        return shardmap.load_private(path)
    except (OSError, ValueError) as exc:
        fail(f"cannot read operator key {path}: {exc}")
        raise
