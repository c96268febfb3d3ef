"""Team battle: viewers of a live room join team a or b with a stake; timed questions as in
the quiz; a team's score is 10 per right answer plus the coins its members gift in the room
during play. When one side is empty at the start, the AI fields that team and the house
matches the human team's stakes; then the humans must score (complete the contest) and the
fair draw at the published p decides whether the AI wins. Two human teams: the higher score
wins; a tie refunds everyone. Winners share the pot minus the house share by stake.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..events import GAME_RESULT, Event
from . import anticheat, escrow, fairness, questions, quiz, rounds
from .rules import Rules

POINTS_PER_ANSWER = 10


def open_round(
    conn: sqlite3.Connection,
    rules: Rules,
    *,
    host_id: str,
    room_id: str,
    stake: int,
    now: datetime,
    events: list[Event],
    n: int | None = None,
    seconds: int | None = None,
    category: str | None = None,
    lobby_seconds: int | None = None,
) -> sqlite3.Row:
    quiz.require_host(conn, room_id, host_id)
    starts = now + timedelta(seconds=lobby_seconds if lobby_seconds is not None else rules.lobby_seconds)
    r = rounds.create(
        conn,
        rules,
        game="battle",
        stake=stake,
        now=now,
        created_by=host_id,
        room_id=room_id,
        state_=quiz.timed_state(rules, n, seconds, category),
        starts_at=starts,
        next_at=starts,
    )
    events.append(rounds.round_event(r, "open", now))
    return r


def teams(conn: sqlite3.Connection, round_id: str) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
    for e in rounds.entries(conn, round_id):
        out[e["team"]].append((e["user_id"], e["stake"]))
    return out


def advance(conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, now: datetime, events: list[Event]) -> None:
    st = rounds.state(r)
    if r["status"] == "open":
        t = teams(conn, r["id"])
        if not t["a"] and not t["b"]:
            rounds.refund(conn, r["id"], now, "nobody joined", events)
            return
        if not t["a"] or not t["b"]:
            st["aiTeam"] = "a" if not t["a"] else "b"
            escrow.house_match(conn, r["id"], sum(s for _, s in t["a"] or t["b"]), now)
        # Gifts count from here: the last ledger transaction before play starts.
        st["txFrom"] = conn.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_tx").fetchone()[0]
        quiz.begin_play(conn, rules, r, st, now, events)
        quiz.announce(conn, rules, rounds.get(conn, r["id"]), st, now, events)
    elif now >= questions.end_of_play(st):
        settle(conn, rules, r, st, now, events)
    else:
        quiz.announce(conn, rules, r, st, now, events)


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
    return quiz.answer_question(conn, rules, r, user_id, k, choice, now, not_joined="join a team before answering")


def gift_coins(conn: sqlite3.Connection, room_id: str, tx_from: int, members: set[str]) -> dict[str, int]:
    """Coins each member gifted in the room since play started (their paid and bonus legs)."""
    out: dict[str, int] = {}
    for uid, coins in conn.execute(
        "SELECT json_extract(t.memo, '$.from') AS who, -SUM(e.amount) FROM ledger_tx t "
        "JOIN ledger_entries e ON e.tx_id = t.id AND e.account_id IN (json_extract(t.memo, '$.from') || ':paid', "
        "json_extract(t.memo, '$.from') || ':bonus') "
        "WHERE t.id > ? AND t.kind = 'gift' AND json_extract(t.memo, '$.stream') = ? GROUP BY who",
        (tx_from, room_id),
    ):
        if uid in members:
            out[uid] = coins
    return out


def team_scores(conn: sqlite3.Connection, r: sqlite3.Row, st: dict[str, Any], t) -> dict[str, int]:
    correct = questions.scores(conn, r["id"])
    members = {u for side in t.values() for u, _ in side}
    gifts = gift_coins(conn, r["room_id"], st.get("txFrom", 0), members)
    return {
        side: sum(POINTS_PER_ANSWER * correct.get(u, (0, 0))[0] + gifts.get(u, 0) for u, _ in t[side])
        for side in ("a", "b")
    }


def by_stake(pot: int, house_bps: int, members: list[tuple[str, int]]) -> dict[str, int]:
    prize = pot - pot * house_bps // 10_000
    total = sum(s for _, s in members)
    out: dict[str, int] = {}
    for uid, s in members:
        out[uid] = out.get(uid, 0) + prize * s // total
    return out


def settle(
    conn: sqlite3.Connection, rules: Rules, r: sqlite3.Row, st: dict[str, Any], now: datetime, events: list[Event]
) -> None:
    t = teams(conn, r["id"])
    score = team_scores(conn, r, st, t)
    pot = escrow.held(conn, r["id"])
    ai_team = st.get("aiTeam")
    ai_won: bool | None = None
    d = fairness.Draws(r["server_seed"], r["seeds_hash"], r["id"], st["nextNonce"])
    if ai_team:
        human = "b" if ai_team == "a" else "a"
        if score[human] > 0:
            ai_won = d.happens(r["ai_win_bps"], "ai team wins")
        winner = ai_team if ai_won is None or ai_won else human
    elif score["a"] == score["b"]:
        rounds.refund(conn, r["id"], now, f"a tie at {score['a']}", events)
        return
    else:
        winner = "a" if score["a"] > score["b"] else "b"
    payouts = {} if winner == ai_team else by_stake(pot, r["house_bps"], t[winner])
    anticheat.same_ip_rings(conn, rules.new_id, r["id"], set(payouts), now)
    rounds.settle(
        conn,
        r["id"],
        payouts,
        now,
        ai_won=ai_won,
        events=events,
        result_event=GAME_RESULT,
        outcome={
            "scores": score,
            "winner": winner,
            "aiTeam": ai_team,
            "questions": st["picked"],
            "draws": st.get("draws", []) + d.log,
        },
    )
