"""Timed questions shared by the quiz and the team battle, measured on the server clock.

Question k is open from `startsAt + k * (seconds + gap)` for `seconds`; an answer counts
only inside that window and its time is the server's `now` minus the opening, in ms. The
questions are drawn from the bank with the round's fair draws when play starts.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict, Invalid
from ..infra.clock import iso, parse_iso
from .fairness import Draws
from .quizbank import Bank


def draw_questions(bank: Bank, st: dict[str, Any], draws: Draws) -> list[str]:
    pool = bank.pool(st.get("category"))
    if len(pool) < st["questions"]:
        raise Invalid(f"the category has only {len(pool)} questions", field="category")
    return [pool[i].id for i in draws.distinct(st["questions"], len(pool), use="question")]


def window(st: dict[str, Any], k: int) -> tuple[datetime, datetime]:
    start = parse_iso(st["playFrom"]) + timedelta(seconds=k * (st["seconds"] + st["gap"]))
    return start, start + timedelta(seconds=st["seconds"])


def end_of_play(st: dict[str, Any]) -> datetime:
    return window(st, st["questions"] - 1)[1]


def current(st: dict[str, Any], now: datetime) -> int | None:
    """The question open at `now`, if any."""
    for k in range(st["questions"]):
        opens, closes = window(st, k)
        if opens <= now <= closes:
            return k
    return None


def next_move(st: dict[str, Any], now: datetime) -> datetime:
    """When the server next has something to announce: the next opening, else the end."""
    for k in range(st["questions"]):
        opens, _ = window(st, k)
        if opens > now:
            return opens
    return end_of_play(st)


def visible(st: dict[str, Any], bank: Bank, status: str, now: datetime | None) -> list[dict[str, Any]]:
    """Questions already opened (answers shown only once the round has ended)."""
    out = []
    for k, qid in enumerate(st.get("picked", [])):
        opens, closes = window(st, k)
        if status == "running" and (now is None or opens > now):
            break
        q = bank.by_id[qid]
        item = {"index": k, "opensAt": iso(opens), "closesAt": iso(closes), **q.public()}
        if status != "running":
            item["answer"] = q.answer
        out.append(item)
    return out


def answer(
    conn: sqlite3.Connection,
    round_id: str,
    st: dict[str, Any],
    bank: Bank,
    user_id: str,
    k: int,
    choice: int,
    now: datetime,
) -> dict[str, Any]:
    if not 0 <= k < st["questions"]:
        raise Invalid(f"question must be between 0 and {st['questions'] - 1}", field="question")
    opens, closes = window(st, k)
    if now < opens:
        raise Conflict("this question is not open yet", code="question_not_open", field="question")
    if now > closes:
        raise Conflict("time is up for this question", code="question_closed", field="question")
    q = bank.by_id[st["picked"][k]]
    if not 0 <= choice < len(q.text["en"]["options"]):
        raise Invalid("choice is not one of the options", field="choice")
    ms = int((now - opens).total_seconds() * 1000)
    correct = choice == q.answer
    try:
        conn.execute(
            "INSERT INTO game_answers(round_id, user_id, question, answer, correct, ms, at) VALUES (?,?,?,?,?,?,?)",
            (round_id, user_id, k, str(choice), int(correct), ms, iso(now)),
        )
    except sqlite3.IntegrityError:
        raise Conflict("you already answered this question", code="already_answered", field="question") from None
    return {"question": k, "ms": ms, "accepted": True}


def scores(conn: sqlite3.Connection, round_id: str) -> dict[str, tuple[int, int]]:
    """user -> (correct answers, total ms of the correct ones)."""
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT user_id, SUM(correct), SUM(CASE WHEN correct THEN ms ELSE 0 END) FROM game_answers "
            "WHERE round_id = ? GROUP BY user_id",
            (round_id,),
        )
    }
