"""Challenge: a timed puzzle the server can check, played against the AI at its published p.

The player opens a challenge (and sees the seed commitment), then joins with a stake and
their client seed; the house matches the stake into escrow and the puzzle is drawn. A wrong
or late answer forfeits the stake. A right answer in time is a completed contest, and the
fair draw at p decides it: the AI wins with probability p, otherwise the player takes the
pot minus the house share. p is never adjusted per player or per round.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict, Forbidden, Invalid
from ..events import GAME_RESULT, Event
from ..infra.clock import iso, parse_iso
from . import anticheat, escrow, fairness, rounds
from .rules import Rules


def open_round(
    conn: sqlite3.Connection, rules: Rules, *, user_id: str, stake: int, now: datetime, events: list[Event]
) -> sqlite3.Row:
    # The commitment is published before the player picks a client seed; an unjoined
    # challenge simply expires.
    return rounds.create(
        conn,
        rules,
        game="challenge",
        stake=stake,
        now=now,
        created_by=user_id,
        next_at=now + timedelta(seconds=rules.lobby_seconds),
    )


def puzzle(d: fairness.Draws) -> dict[str, Any]:
    a, b, c = 12 + d.pick(88, "puzzle a"), 12 + d.pick(88, "puzzle b"), 100 + d.pick(900, "puzzle c")
    return {"text": f"{a} × {b} + {c}", "answer": a * b + c}


def start(conn: sqlite3.Connection, rules: Rules, round_id: str, now: datetime, events: list[Event]) -> None:
    """Right after the player's stake: the house's matching stake, the puzzle, the clock."""
    r = rounds.get(conn, round_id)
    escrow.house_match(conn, round_id, r["stake"], now)
    rounds.fix_seeds(conn, round_id)
    d = rounds.draws(conn, round_id)
    st = {
        "puzzle": puzzle(d),
        "draws": d.log,
        "nextNonce": d.nonce,
        "playFrom": iso(now),
        "deadline": iso(now + timedelta(seconds=rules.challenge_seconds)),
    }
    conn.execute(
        "UPDATE game_rounds SET status = 'running', state = ?, starts_at = ?, next_at = ? WHERE id = ?",
        (json.dumps(st), iso(now), st["deadline"], round_id),
    )


def answer(
    conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, user_id: str, value: int, now: datetime, events: list[Event]
) -> dict[str, Any]:
    if r["status"] != "running":
        raise Conflict(f"this challenge is {r['status']}, not running", code="round_not_running", field="roundId")
    if r["created_by"] != user_id:
        raise Forbidden("this is not your challenge", code="not_your_challenge")
    st = rounds.state(r)
    if now > parse_iso(st["deadline"]):
        raise Conflict("time is up for this challenge", code="question_closed", field="answer")
    if not isinstance(value, int):
        raise Invalid("answer must be a whole number", field="answer")
    ms = int((now - parse_iso(st["playFrom"])).total_seconds() * 1000)
    solved = value == st["puzzle"]["answer"]
    conn.execute(
        "INSERT INTO game_answers(round_id, user_id, question, answer, correct, ms, at) VALUES (?,?,0,?,?,?,?)",
        (r["id"], user_id, str(value), int(solved), ms, iso(now)),
    )
    flagged = anticheat.too_fast(conn, rules.new_id, r["id"], user_id, 0, ms, rules.min_reaction_ms, now)
    outcome = finish(conn, rules, r, st, solved, now, events, reason=None if solved else "wrong answer")
    return {"solved": solved, "ms": ms, "flagged": flagged, "aiWon": outcome["aiWon"], "payouts": outcome["payouts"]}


def finish(
    conn: sqlite3.Connection,
    rules: Rules,
    r: sqlite3.Row,
    st: dict[str, Any],
    solved: bool,
    now: datetime,
    events: list[Event],
    reason: str | None,
) -> dict[str, Any]:
    ai_won: bool | None = None
    payouts: dict[str, int] = {}
    d = fairness.Draws(r["server_seed"], r["seeds_hash"], r["id"], st["nextNonce"])
    if solved:
        ai_won = d.happens(r["ai_win_bps"], "ai wins")
        if not ai_won:
            pot = escrow.held(conn, r["id"])
            payouts = {r["created_by"]: pot - pot * r["house_bps"] // 10_000}
    outcome = rounds.settle(
        conn,
        r["id"],
        payouts,
        now,
        ai_won=ai_won,
        events=events,
        result_event=GAME_RESULT,
        outcome={
            "solved": solved,
            "forfeit": reason,
            "answer": st["puzzle"]["answer"],
            "puzzle": st["puzzle"]["text"],
            "aiWon": ai_won,
            "draws": st["draws"] + d.log,
        },
    )
    return {"aiWon": ai_won, "payouts": outcome["payouts"]}


def advance(conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, now: datetime, events: list[Event]) -> None:
    if r["status"] == "open":  # never joined: nothing was staked
        rounds.finish(
            conn,
            r["id"],
            "refunded",
            now,
            outcome={"refunded": 0, "reason": "not joined in time"},
            resolution="refunded: not joined in time",
        )
    else:
        finish(conn, rules, r, rounds.state(r), False, now, events, reason="time ran out")
