"""Moving rounds: the due-round step, intents routed to their game, and recovery at start."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from ..errors import Conflict, Invalid
from ..events import Event
from ..infra.clock import iso, parse_iso
from . import battle, challenge, lottery, quiz, rounds
from .rules import Rules

ADVANCE = {"quiz": quiz.advance, "battle": battle.advance, "challenge": challenge.advance, "lottery": lottery.advance}


def step(conn: sqlite3.Connection, rules: Rules, round_id: str, now: datetime, events: list[Event]) -> bool:
    """Advance one round if it is due (another step may have moved it meanwhile)."""
    r = rounds.get(conn, round_id)
    if r["status"] not in rounds.LIVE or r["next_at"] is None or parse_iso(r["next_at"]) > now:
        return False
    ADVANCE[r["game"]](conn, rules, r, now, events)
    return True


def join(
    conn: sqlite3.Connection,
    rules: Rules,
    round_id: str,
    user_id: str,
    now: datetime,
    *,
    events: list[Event],
    **kw: Any,
) -> dict[str, Any]:
    out = rounds.join(conn, rules, round_id, user_id, now, events=events, **kw)
    r = rounds.get(conn, round_id)
    if r["game"] == "challenge":
        challenge.start(conn, rules, round_id, now, events)
        r = rounds.get(conn, round_id)
        out["puzzle"] = {"text": rounds.state(r)["puzzle"]["text"], "deadline": rounds.state(r)["deadline"]}
    return out


def answer(
    conn: sqlite3.Connection,
    rules: Rules,
    round_id: str,
    user_id: str,
    now: datetime,
    *,
    question: int | None,
    choice: int | None,
    value: int | None,
    events: list[Event],
) -> dict[str, Any]:
    r = rounds.get(conn, round_id)
    if r["game"] == "challenge":
        if value is None:
            raise Invalid("answer is required for a challenge", field="answer")
        return challenge.answer(conn, rules, r, user_id, value, now, events)
    if r["game"] in ("quiz", "battle"):
        if question is None or choice is None:
            raise Invalid("question and choice are required", field="choice")
        fn = quiz.answer if r["game"] == "quiz" else battle.answer
        return fn(conn, rules, r, user_id, question, choice, now, events)
    raise Conflict("a lottery takes no answers", code="no_answers", field="roundId")


def start_now(conn: sqlite3.Connection, round_id: str, user_id: str, now: datetime) -> dict[str, Any]:
    """The host ends the lobby early: the round is due now and the server starts it."""
    r = rounds.get(conn, round_id)
    if r["game"] not in ("quiz", "battle"):
        raise Conflict(
            "only quiz and battle rounds are started by their host", code="not_host_started", field="roundId"
        )
    if r["created_by"] != user_id:
        from ..errors import Forbidden

        raise Forbidden("only the host who opened the round starts it", code="not_host")
    if r["status"] != "open":
        raise Conflict(f"this round is {r['status']}, not open", code="round_closed", field="roundId")
    conn.execute("UPDATE game_rounds SET next_at = ? WHERE id = ?", (iso(now), round_id))
    return {"roundId": round_id, "startsAt": iso(now)}


def recover(conn: sqlite3.Connection, rules: Rules, now: datetime, events: list[Event]) -> dict[str, list[str]]:
    """At start, every round left open or running by the previous process, exactly once:

    * running quiz, battle or challenge: refunded (players could not play while we were down);
    * a quiz or battle lobby whose start passed while down: refunded;
    * a lottery: resumed; if its draw time passed, drawn now (the draw is fixed by the data);
    * anything not yet due: resumed as it is (the tick moves it on time).

    Ending a round flips its status in the same transaction as its one refund/settle ledger
    transaction, so a second recovery finds nothing to do.
    """
    done: dict[str, list[str]] = {"refunded": [], "drawn": [], "resumed": [], "expired": []}
    for r in conn.execute(
        "SELECT * FROM game_rounds WHERE status IN ('open','running') ORDER BY created_at"
    ).fetchall():
        due = r["next_at"] is not None and parse_iso(r["next_at"]) <= now
        if r["game"] == "lottery":
            if due:
                lottery.draw(conn, rules, r, now, events)
                done["drawn"].append(r["id"])
            else:
                done["resumed"].append(r["id"])
        elif r["status"] == "running":
            rounds.refund(conn, r["id"], now, "interrupted by a server restart", events)
            done["refunded"].append(r["id"])
        elif due and r["game"] == "challenge":
            challenge.advance(conn, rules, r, now, events)
            done["expired"].append(r["id"])
        elif due:
            rounds.refund(conn, r["id"], now, "the lobby closed while the server was down", events)
            done["refunded"].append(r["id"])
        else:
            done["resumed"].append(r["id"])
    return done
