"""Quiz: a host starts a round in their live room; viewers pay the entry fee; timed questions
from the bank (drawn fairly when play starts); the best score takes the pool minus the house
share (fastest total answer time breaks ties; exact ties split the prize).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import GAME_QUESTION, GAME_RESULT, Event
from ..infra.clock import iso
from . import anticheat, escrow, questions, rounds
from .rules import Rules

MIN_PLAYERS = 2


def require_host(conn: sqlite3.Connection, room_id: str, host_id: str) -> None:
    s = conn.execute("SELECT host_id, status FROM streams WHERE id = ?", (room_id,)).fetchone()
    if s is None:
        raise NotFound("no such stream", field="roomId")
    if s["host_id"] != host_id:
        raise Forbidden("only the host of the stream starts games in it", code="not_host", field="roomId")
    if s["status"] != "live":
        raise Conflict(f"the stream is {s['status']}, not live", code="stream_not_live", field="roomId")


def timed_state(rules: Rules, n: int | None, seconds: int | None, category: str | None) -> dict[str, Any]:
    n = n or rules.quiz_questions
    seconds = seconds or rules.quiz_seconds
    if not 1 <= n <= 20:
        raise Invalid("questions must be between 1 and 20", field="questions")
    if not 5 <= seconds <= 120:
        raise Invalid("seconds must be between 5 and 120", field="seconds")
    if category is not None and category not in rules.bank.categories:
        raise Invalid(f"category must be one of {', '.join(rules.bank.categories)}", field="category")
    return {"questions": n, "seconds": seconds, "gap": rules.quiz_gap_seconds, "category": category, "announced": -1}


def open_round(
    conn: sqlite3.Connection,
    rules: Rules,
    *,
    host_id: str,
    room_id: str,
    entry_fee: int,
    now: datetime,
    events: list[Event],
    n: int | None = None,
    seconds: int | None = None,
    category: str | None = None,
    lobby_seconds: int | None = None,
) -> sqlite3.Row:
    require_host(conn, room_id, host_id)
    starts = now + timedelta(seconds=lobby_seconds if lobby_seconds is not None else rules.lobby_seconds)
    r = rounds.create(
        conn,
        rules,
        game="quiz",
        stake=entry_fee,
        now=now,
        created_by=host_id,
        room_id=room_id,
        state_=timed_state(rules, n, seconds, category),
        starts_at=starts,
        next_at=starts,
    )
    events.append(rounds.round_event(r, "open", now))
    return r


def begin_play(
    conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, st: dict[str, Any], now: datetime, events: list[Event]
) -> None:
    """Fix the client seeds, draw the questions, start the clock on question 0 now."""
    rounds.fix_seeds(conn, r["id"])
    d = rounds.draws(conn, r["id"])
    st["picked"] = questions.draw_questions(rules.bank, st, d)
    st["draws"] = d.log
    st["nextNonce"] = d.nonce
    st["playFrom"] = iso(now)
    conn.execute(
        "UPDATE game_rounds SET status = 'running', state = ?, next_at = ? WHERE id = ?",
        (json.dumps(st), iso(now), r["id"]),
    )
    events.append(
        rounds.round_event(rounds.get(conn, r["id"]), "started", now, questions=st["questions"], seconds=st["seconds"])
    )


def announce(
    conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, st: dict[str, Any], now: datetime, events: list[Event]
) -> None:
    """Send the question now open (once), and set the next time the server must look."""
    k = questions.current(st, now)
    if k is not None and k > st.get("announced", -1):
        opens, closes = questions.window(st, k)
        q = rules.bank.by_id[st["picked"][k]]
        events.append(
            Event(
                GAME_QUESTION,
                {
                    "roundId": r["id"],
                    "game": r["game"],
                    "index": k,
                    "opensAt": iso(opens),
                    "closesAt": iso(closes),
                    **q.public(),
                },
                room=r["room_id"],
            )
        )
        st["announced"] = k
    conn.execute(
        "UPDATE game_rounds SET state = ?, next_at = ? WHERE id = ?",
        (json.dumps(st), iso(questions.next_move(st, now)), r["id"]),
    )


def advance(conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, now: datetime, events: list[Event]) -> None:
    st = rounds.state(r)
    if r["status"] == "open":
        if len(rounds.entrants(conn, r["id"])) < MIN_PLAYERS:
            rounds.refund(conn, r["id"], now, f"fewer than {MIN_PLAYERS} players joined", events)
            return
        begin_play(conn, rules, r, st, now, events)
        announce(conn, rules, rounds.get(conn, r["id"]), st, now, events)
    elif now >= questions.end_of_play(st):
        settle(conn, rules, r, st, now, events)
    else:
        announce(conn, rules, r, st, now, events)


def answer(
    conn: sqlite3.Connection,
    rules: Rules,
    r: sqlite3.Row,
    user_id: str,
    k: int,
    choice: int,
    now: datetime,
    events: list[Event],
) -> dict[str, Any]:
    return answer_question(conn, rules, r, user_id, k, choice, now, not_joined="join the round before answering")


def answer_question(
    conn: sqlite3.Connection,
    rules: Rules,
    r: sqlite3.Row,
    user_id: str,
    k: int,
    choice: int,
    now: datetime,
    *,
    not_joined: str,
) -> dict[str, Any]:
    """A timed answer in a running quiz or battle round, by an entrant; too-fast ones flagged."""
    if r["status"] != "running":
        raise Conflict(f"this round is {r['status']}, not running", code="round_not_running", field="roundId")
    if user_id not in rounds.entrants(conn, r["id"]):
        raise Forbidden(not_joined, code="not_joined")
    out = questions.answer(conn, r["id"], rounds.state(r), rules.bank, user_id, k, choice, now)
    out["flagged"] = anticheat.too_fast(conn, rules.new_id, r["id"], user_id, k, out["ms"], rules.min_reaction_ms, now)
    return out


def ranked(scores: dict[str, tuple[int, int]]) -> list[str]:
    """The winners: most correct answers, then the least total time on them (exact ties share)."""
    if not scores:
        return []
    best = max(scores.values(), key=lambda s: (s[0], -s[1]))
    if best[0] == 0:
        return []
    return sorted(u for u, s in scores.items() if s == best)


def split(pot: int, house_bps: int, winners: list[str]) -> dict[str, int]:
    prize = pot - pot * house_bps // 10_000
    each = prize // len(winners)
    return {u: each for u in winners}


def settle(
    conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, st: dict[str, Any], now: datetime, events: list[Event]
) -> None:
    winners = ranked(questions.scores(conn, r["id"]))
    if not winners:
        rounds.refund(conn, r["id"], now, "nobody answered correctly", events)
        return
    payouts = split(escrow.held(conn, r["id"]), r["house_bps"], winners)
    anticheat.same_ip_rings(conn, rules.new_id, r["id"], set(winners), now)
    rounds.settle(
        conn,
        r["id"],
        payouts,
        now,
        ai_won=None,
        events=events,
        result_event=GAME_RESULT,
        outcome={"winners": winners, "questions": st["picked"], "draws": st.get("draws", [])},
    )
