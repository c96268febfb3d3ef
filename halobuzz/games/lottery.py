"""Lottery: tickets for coins until a scheduled draw; winners by commit–reveal.

The seed commitment is published when the lottery opens. At the draw the tickets' client
seeds are hashed in ticket order, and the fair draws pick distinct winning tickets, one per
prize. The prize pool is the ticket sales minus the configured house share; prize i is
`pool * splitBps[i] / 10000` (whole coins; what rounding leaves goes to the house).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..errors import Invalid
from ..events import GAME_DRAW, Event
from ..infra.clock import iso
from . import anticheat, escrow, rounds
from .rules import Rules


def open_round(
    conn: sqlite3.Connection,
    rules: Rules,
    *,
    price: int,
    draws_at: datetime,
    now: datetime,
    events: list[Event],
    created_by: str | None = None,
    split_bps: tuple[int, ...] | None = None,
) -> sqlite3.Row:
    split = tuple(split_bps or rules.lottery_split_bps)
    if not split or sum(split) != 10_000 or any(s <= 0 for s in split):
        raise Invalid("splitBps must be positive shares summing to 10000", field="splitBps")
    if draws_at <= now:
        raise Invalid("drawsAt must be in the future", field="drawsAt")
    r = rounds.create(
        conn,
        rules,
        game="lottery",
        stake=price,
        now=now,
        created_by=created_by,
        state_={"drawsAt": iso(draws_at), "splitBps": list(split)},
        starts_at=now,
        next_at=draws_at,
    )
    events.append(rounds.round_event(r, "open", now, drawsAt=iso(draws_at)))
    return r


def ensure_open(
    conn: sqlite3.Connection, rules: Rules, *, price: int, every_seconds: int, now: datetime, events: list[Event]
) -> sqlite3.Row | None:
    """The scheduler's job: keep one house lottery open, drawing `every_seconds` after it opens."""
    if conn.execute(
        "SELECT 1 FROM game_rounds WHERE game = 'lottery' AND status = 'open' AND created_by IS NULL"
    ).fetchone():
        return None
    return open_round(conn, rules, price=price, draws_at=now + timedelta(seconds=every_seconds), now=now, events=events)


def draw(conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, now: datetime, events: list[Event]) -> dict[str, Any]:
    st = rounds.state(r)
    tickets = conn.execute(
        "SELECT entry_no, user_id FROM game_entries WHERE round_id = ? ORDER BY entry_no", (r["id"],)
    ).fetchall()
    rounds.fix_seeds(conn, r["id"])
    if not tickets:
        rounds.finish(
            conn,
            r["id"],
            "settled",
            now,
            outcome={"tickets": 0, "winners": [], "draws": []},
            resolution="settled: no tickets",
        )
        return {"tickets": 0}
    d = rounds.draws(conn, r["id"])
    picked = d.distinct(len(st["splitBps"]), len(tickets), use="winning ticket")
    pot = escrow.held(conn, r["id"])
    pool = pot - pot * r["house_bps"] // 10_000
    payouts: dict[str, int] = {}
    winners = []
    for place, i in enumerate(picked):
        no, uid = tickets[i]
        prize = pool * st["splitBps"][place] // 10_000
        payouts[uid] = payouts.get(uid, 0) + prize
        winners.append({"place": place + 1, "ticket": no, "userId": uid, "prize": prize})
    anticheat.same_ip_rings(conn, rules.new_id, r["id"], set(payouts), now)
    return rounds.settle(
        conn,
        r["id"],
        payouts,
        now,
        ai_won=None,
        events=events,
        result_event=GAME_DRAW,
        outcome={"tickets": len(tickets), "pool": pool, "winners": winners, "draws": d.log},
    )


def advance(conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, now: datetime, events: list[Event]) -> None:
    draw(conn, rules, r, now, events)
