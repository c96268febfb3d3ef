"""The `halobuzz` command. With no subcommand it serves (like `datasette`)."""

from __future__ import annotations

import sys

import click

from .. import __version__
from . import admin, backup, bench, dev, festivals, games, moderation, money, ops, payments, serve, shards, trust


class DefaultGroup(click.Group):
    """Runs `serve` when the first argument is not a subcommand."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="halobuzz")
def cli() -> None:
    """HaloBuzz: a live-streaming social platform in one file.

    \b
    Example:
      halobuzz serve --demo          # start on ./data with demo data
      halobuzz user list             # works while the server runs
    """


for command in (
    serve.serve,
    serve.init,
    ops.migrate,
    ops.doctor,
    ops.version,
    ops.healthcheck,
    backup.backup,
    backup.restore,
    backup.secrets_group,
    backup.upgrade,
    admin.user,
    admin.audit_group,
    money.coins,
    money.ledger_group,
    moderation.moderation,
    payments.payments,
    bench.bench,
    dev.dev,
    festivals.festivals,
    trust.trust,
    games.games,
    games.compliance,
    shards.shards,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
