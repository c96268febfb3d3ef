"""Doctor check and demo seeder for festivals."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from zoneinfo import ZoneInfo

from ..accounts import audit
from ..wallet import accounts as A
from . import store


def bonuses_match_ledger(conn: sqlite3.Connection) -> list[str]:
    """Every recorded festival bonus is exactly one ledger transaction crediting that user's bonus coins."""
    problems = []
    for r in conn.execute(
        "SELECT b.tx_id, b.user_id, b.bonus_coins, t.kind, (SELECT amount FROM ledger_entries e WHERE "
        "e.tx_id = b.tx_id AND e.account_id = b.user_id || ':' || ?) AS credited FROM festival_bonuses b "
        "LEFT JOIN ledger_tx t ON t.id = b.tx_id",
        (A.BONUS,),
    ):
        if r["kind"] != "festival_bonus" or r["credited"] != r["bonus_coins"]:
            problems.append(
                f"festival bonus tx {r['tx_id']}: ledger shows {r['kind']} {r['credited']}, "
                f"expected festival_bonus {r['bonus_coins']}"
            )
        if len(problems) >= 20:
            break
    return problems


def seed_demo_festival(writer, settings, clock, ids) -> None:
    """A custom festival running for the next week, so the demo console shows a banner."""

    def unit(conn):
        if conn.execute("SELECT 1 FROM festivals WHERE id = 'halobuzz-launch'").fetchone():
            return
        now = clock.now().astimezone(ZoneInfo("Asia/Kathmandu")).replace(tzinfo=None)
        spec = store.FestivalSpec(
            id="halobuzz-launch",
            kind="custom",
            name_en="HaloBuzz Launch",
            name_ne="हेलोबज सुरुवात",
            banner_en="Launch week: +10 % bonus coins on every gift!",
            banner_ne="सुरुवात हप्ता: हरेक उपहारमा +१० % बोनस सिक्का!",
            starts_local=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            ends_local=(now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            gift_bonus_bps=1000,
            purchase_bonus_bps=1000,
            gift_ids=("firework",),
        )
        store.create(conn, spec, audit.Actor(name="demo", source="cli"), clock.now())

    writer.write_sync(unit)
