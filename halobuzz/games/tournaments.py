"""Tournaments: single or double elimination brackets of head-to-head puzzle matches.

Players register with the entry fee (a skill contest: the compliance pack's paid-contest
rules, max stake and daily loss limit apply) into the tournament's escrow. At the start the
players are seeded (most matches won in earlier tournaments first, then who registered
first), the bracket is drawn with byes for the top seeds, and the client seeds are fixed.

A match is ready when both its players are known: both get the same puzzle (drawn from the
tournament's committed seed, nonces 3*match..3*match+2). The first right answer wins; a
wrong answer loses; a player who has not answered by the deadline forfeits to one who did,
and when neither answered the better seed advances (no-show). At the end the prize pool
(entry fees minus the house share) is paid by place in one ledger transaction; fewer than
two players cancels and refunds. On restart a running tournament resumes: its ready matches
get a fresh deadline.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import (
    TOURNAMENT_CREATED,
    TOURNAMENT_FINISHED,
    TOURNAMENT_MATCH,
    TOURNAMENT_RESULT,
    TOURNAMENT_STARTED,
    Event,
)
from ..infra.clock import iso, parse_iso
from . import brackets, compliance, escrow, fairness
from .challenge import puzzle as draw_puzzle
from .rounds import client_seed_of
from .rules import Rules

GAME = "tournament"


def get(conn: sqlite3.Connection, tid: str) -> sqlite3.Row:
    t = conn.execute("SELECT * FROM tournaments WHERE id = ?", (tid,)).fetchone()
    if t is None:
        raise NotFound("no such tournament", field="tournamentId")
    return t


def players(conn: sqlite3.Connection, tid: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT user_id FROM tournament_players WHERE tournament_id = ? ORDER BY joined_at, rowid", (tid,)
        )
    ]


def _event(conn, t, name: str, data: dict[str, Any]) -> Event:
    return Event(name, {"tournamentId": t["id"], **data}, users=tuple(players(conn, t["id"])))


def create(
    conn: sqlite3.Connection,
    rules: Rules,
    *,
    name: str,
    format: str,
    entry_fee: int,
    max_players: int,
    starts_at: datetime,
    now: datetime,
    created_by: str | None,
    split_bps: tuple[int, ...] = (7000, 3000),
    match_seconds: int = 60,
    events: list[Event],
) -> sqlite3.Row:
    if format not in ("single", "double"):
        raise Invalid("format must be single or double", field="format")
    if not 2 <= max_players <= 256:
        raise Invalid("maxPlayers must be between 2 and 256", field="maxPlayers")
    if not split_bps or sum(split_bps) != 10_000 or len(split_bps) > brackets.places(format == "double"):
        raise Invalid(
            f"splitBps must sum to 10000 over at most {brackets.places(format == 'double')} places", field="splitBps"
        )
    if starts_at <= now:
        raise Invalid("startsAt must be in the future", field="startsAt")
    if not 10 <= match_seconds <= 3600:
        raise Invalid("matchSeconds must be between 10 and 3600", field="matchSeconds")
    tid = rules.new_id()
    seed = rules.new_seed()
    conn.execute(
        "INSERT INTO tournaments(id, name, format, status, entry_fee, max_players, match_seconds, split_bps, "
        "house_bps, seed_hash, server_seed, created_by, starts_at, next_at, created_at) "
        "VALUES (?,?,?, 'registering', ?,?,?,?,?,?,?,?,?,?,?)",
        (
            tid,
            name,
            format,
            entry_fee,
            max_players,
            match_seconds,
            json.dumps(list(split_bps)),
            rules.house_bps.get("quiz", 0),
            fairness.commitment(seed),
            seed,
            created_by,
            iso(starts_at),
            iso(starts_at),
            iso(now),
        ),
    )
    t = get(conn, tid)
    events.append(
        Event(
            TOURNAMENT_CREATED,
            {
                "tournamentId": tid,
                "name": name,
                "format": format,
                "entryFee": entry_fee,
                "startsAt": iso(starts_at),
                "seedHash": t["seed_hash"],
            },
        )
    )
    return t


def register(
    conn: sqlite3.Connection, rules: Rules, tid: str, user_id: str, now: datetime, *, client_seed: str | None = None
) -> dict[str, Any]:
    t = get(conn, tid)
    if t["status"] != "registering":
        raise Conflict(f"this tournament is {t['status']}; registration is closed", code="registration_closed")
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None or user["status"] != "active":
        raise Forbidden("this account cannot play", code="account_inactive")
    if conn.execute(
        "SELECT 1 FROM tournament_players WHERE tournament_id = ? AND user_id = ?", (tid, user_id)
    ).fetchone():
        raise Conflict("you are already registered", code="already_joined")
    count = len(players(conn, tid))
    if count >= t["max_players"]:
        raise Conflict("the tournament is full", code="tournament_full")
    compliance.check_stake(
        conn, user, t["entry_fee"], chance=False, pack=rules.packs.get(user["country"]), today=now.date()
    )
    escrow.stake(conn, user, tid, count + 1, t["entry_fee"], now, rules.spend, GAME)
    seed = client_seed_of(client_seed)
    conn.execute(
        "INSERT INTO tournament_players(tournament_id, user_id, client_seed, joined_at) VALUES (?,?,?,?)",
        (tid, user_id, seed, iso(now)),
    )
    return {"tournamentId": tid, "clientSeed": seed, "staked": t["entry_fee"], "seedHash": t["seed_hash"]}


def _rating(conn: sqlite3.Connection, user_id: str) -> int:
    return conn.execute(
        "SELECT COUNT(*) FROM tournament_matches WHERE winner = ? AND how = 'answer'", (user_id,)
    ).fetchone()[0]


def start(conn: sqlite3.Connection, rules: Rules, t: sqlite3.Row, now: datetime, events: list[Event]) -> None:
    entrants = players(conn, t["id"])
    if len(entrants) < 2:
        cancel(conn, t, now, "fewer than 2 players registered", events)
        return
    ranked = sorted(entrants, key=lambda u: -_rating(conn, u))  # stable: registration order breaks ties
    for seed, uid in enumerate(ranked, start=1):
        conn.execute(
            "UPDATE tournament_players SET seed = ? WHERE tournament_id = ? AND user_id = ?", (seed, t["id"], uid)
        )
    client_seeds = [
        r[0]
        for r in conn.execute(
            "SELECT client_seed FROM tournament_players WHERE tournament_id = ? ORDER BY seed", (t["id"],)
        )
    ]
    seeds_hash = fairness.client_seeds_hash(client_seeds)
    conn.execute(
        "UPDATE tournaments SET status = 'running', seeds_hash = ?, next_at = NULL WHERE id = ?", (seeds_hash, t["id"])
    )
    matches, first = brackets.build(brackets.size_for(len(ranked)), t["format"] == "double")
    conn.executemany(
        "INSERT INTO tournament_matches(tournament_id, match_no, bracket, round, position, win_to, win_slot, lose_to, "
        "lose_slot) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (t["id"], m.no, m.bracket, m.round, m.position, *(m.win_to or (None, None)), *(m.lose_to or (None, None)))
            for m in matches
        ],
    )
    t = get(conn, t["id"])
    events.append(
        _event(
            conn,
            t,
            TOURNAMENT_STARTED,
            {"seeds": ranked, "size": brackets.size_for(len(ranked)), "seedsHash": seeds_hash},
        )
    )
    for (no, slot), seed in sorted(first.items()):
        _set_slot(conn, rules, t, no, slot, ranked[seed - 1] if seed <= len(ranked) else None, now, events)


def _match(conn: sqlite3.Connection, tid: str, no: int) -> sqlite3.Row:
    m = conn.execute("SELECT * FROM tournament_matches WHERE tournament_id = ? AND match_no = ?", (tid, no)).fetchone()
    if m is None:
        raise NotFound("no such match", field="match")
    return m


def _set_slot(conn, rules, t, no: int, slot: str, player: str | None, now: datetime, events: list[Event]) -> None:
    conn.execute(
        f"UPDATE tournament_matches SET player_{slot} = ?, {slot}_set = 1 WHERE tournament_id = ? AND match_no = ?",
        (player, t["id"], no),
    )
    m = _match(conn, t["id"], no)
    if not (m["a_set"] and m["b_set"]) or m["status"] != "pending":
        return
    a, b = m["player_a"], m["player_b"]
    if a and b:
        d = fairness.Draws(t["server_seed"], t["seeds_hash"], t["id"], 3 * no)
        pz = draw_puzzle(d)
        due = now + timedelta(seconds=t["match_seconds"])
        conn.execute(
            "UPDATE tournament_matches SET status = 'ready', puzzle = ?, ready_at = ?, due_at = ? "
            "WHERE tournament_id = ? AND match_no = ?",
            (json.dumps(pz), iso(now), iso(due), t["id"], no),
        )
        events.append(
            Event(
                TOURNAMENT_MATCH,
                {"tournamentId": t["id"], "match": no, "players": [a, b], "puzzle": pz["text"], "dueAt": iso(due)},
                users=(a, b),
            )
        )
    else:
        _resolve(conn, rules, t, m, a or b, None, "bye" if (a or b) else "empty", now, events)


def _resolve(
    conn, rules, t, m, winner: str | None, loser: str | None, how: str, now: datetime, events: list[Event]
) -> None:
    conn.execute(
        "UPDATE tournament_matches SET status = 'done', winner = ?, loser = ?, how = ?, done_at = ? "
        "WHERE tournament_id = ? AND match_no = ?",
        (winner, loser, how, iso(now), t["id"], m["match_no"]),
    )
    if how not in ("bye", "empty"):
        events.append(
            _event(
                conn,
                t,
                TOURNAMENT_RESULT,
                {
                    "match": m["match_no"],
                    "bracket": m["bracket"],
                    "round": m["round"],
                    "winner": winner,
                    "loser": loser,
                    "how": how,
                },
            )
        )
    if m["win_to"] is not None:
        _set_slot(conn, rules, t, m["win_to"], m["win_slot"], winner, now, events)
    if m["lose_to"] is not None:
        _set_slot(conn, rules, t, m["lose_to"], m["lose_slot"], loser, now, events)
    if m["win_to"] is None:
        _finish(conn, rules, get(conn, t["id"]), now, events)


def answer(
    conn: sqlite3.Connection,
    rules: Rules,
    tid: str,
    no: int,
    user_id: str,
    value: int,
    now: datetime,
    events: list[Event],
) -> dict[str, Any]:
    t = get(conn, tid)
    if t["status"] != "running":
        raise Conflict(f"this tournament is {t['status']}", code="tournament_ended", field="tournamentId")
    m = _match(conn, tid, no)
    if m["status"] != "ready":
        raise Conflict(f"this match is {m['status']}, not ready", code="match_not_ready", field="match")
    if user_id not in (m["player_a"], m["player_b"]):
        raise Forbidden("you are not in this match", code="not_in_match")
    if now > parse_iso(m["due_at"]):
        raise Conflict("time is up for this match", code="question_closed", field="answer")
    other = m["player_b"] if user_id == m["player_a"] else m["player_a"]
    right = value == json.loads(m["puzzle"])["answer"]
    if right:
        _resolve(conn, rules, t, m, user_id, other, "answer", now, events)
    else:
        _resolve(conn, rules, t, m, other, user_id, "wrong answer", now, events)
    return {"match": no, "solved": right, "won": right}


def _seed_of(conn, tid: str, user_id: str) -> int:
    return conn.execute(
        "SELECT seed FROM tournament_players WHERE tournament_id = ? AND user_id = ?", (tid, user_id)
    ).fetchone()[0]


def expire(conn: sqlite3.Connection, rules: Rules, tid: str, no: int, now: datetime, events: list[Event]) -> None:
    """Nobody answered in time: the better seed advances (both no-show)."""
    t, m = get(conn, tid), _match(conn, tid, no)
    a, b = m["player_a"], m["player_b"]
    winner, loser = (a, b) if _seed_of(conn, tid, a) < _seed_of(conn, tid, b) else (b, a)
    _resolve(conn, rules, t, m, winner, loser, "no-show (better seed advances)", now, events)


def _final_places(conn, t) -> dict[int, str]:
    final = conn.execute(
        "SELECT * FROM tournament_matches WHERE tournament_id = ? AND win_to IS NULL", (t["id"],)
    ).fetchone()
    places = {1: final["winner"], 2: final["loser"]}
    if t["format"] == "double":
        lb_final = conn.execute(
            "SELECT loser FROM tournament_matches WHERE tournament_id = ? AND bracket = 'L' "
            "ORDER BY round DESC LIMIT 1",
            (t["id"],),
        ).fetchone()
        if lb_final and lb_final[0]:
            places[3] = lb_final[0]
    return {p: u for p, u in places.items() if u}


def _finish(conn, rules, t, now: datetime, events: list[Event]) -> None:
    places = _final_places(conn, t)
    split = json.loads(t["split_bps"])
    pot = escrow.held(conn, t["id"])
    pool = pot - pot * t["house_bps"] // 10_000
    payouts: dict[str, int] = {}
    for place, uid in places.items():
        if place <= len(split):
            payouts[uid] = payouts.get(uid, 0) + pool * split[place - 1] // 10_000
        conn.execute(
            "UPDATE tournament_players SET place = ?, payout = ? WHERE tournament_id = ? AND user_id = ?",
            (place, payouts.get(uid, 0), t["id"], uid),
        )
    house = escrow.settle(conn, t["id"], payouts, now, GAME)
    outcome = {"places": {str(p): u for p, u in places.items()}, "payouts": payouts, "house": house}
    conn.execute(
        "UPDATE tournaments SET status = 'finished', finished_at = ?, outcome = ?, next_at = NULL WHERE id = ?",
        (iso(now), json.dumps(outcome), t["id"]),
    )
    events.append(_event(conn, t, TOURNAMENT_FINISHED, {**outcome, "serverSeed": t["server_seed"]}))


def cancel(conn: sqlite3.Connection, t: sqlite3.Row, now: datetime, reason: str, events: list[Event]) -> int:
    if t["status"] not in ("registering", "running"):
        raise Conflict(f"this tournament is already {t['status']}", code="tournament_ended")
    stakes = [
        (r[0], t["entry_fee"])
        for r in conn.execute("SELECT user_id FROM tournament_players WHERE tournament_id = ?", (t["id"],))
    ]
    back = escrow.refund(conn, t["id"], stakes, now, GAME, reason)
    # Its open matches close with it: otherwise they are still answered or expired, and the
    # last one "finishes" the refunded tournament (and the due loop keeps waking for them).
    conn.execute(
        "UPDATE tournament_matches SET status = 'done', how = 'cancelled', done_at = ? "
        "WHERE tournament_id = ? AND status <> 'done'",
        (iso(now), t["id"]),
    )
    conn.execute(
        "UPDATE tournaments SET status = 'cancelled', finished_at = ?, outcome = ?, next_at = NULL WHERE id = ?",
        (iso(now), json.dumps({"refunded": back, "reason": reason}), t["id"]),
    )
    events.append(
        _event(conn, t, TOURNAMENT_FINISHED, {"cancelled": reason, "refunded": back, "serverSeed": t["server_seed"]})
    )
    return back


def step(conn: sqlite3.Connection, rules: Rules, now: datetime, events: list[Event]) -> int:
    """Start tournaments whose time has come and expire matches past their deadline."""
    moved = 0
    for t in conn.execute(
        "SELECT * FROM tournaments WHERE status = 'registering' AND next_at <= ?", (iso(now),)
    ).fetchall():
        start(conn, rules, t, now, events)
        moved += 1
    for tid, no in conn.execute(
        "SELECT tournament_id, match_no FROM tournament_matches WHERE status = 'ready' "
        "AND due_at <= ? ORDER BY due_at LIMIT 100",
        (iso(now),),
    ).fetchall():
        expire(conn, rules, tid, no, now, events)
        moved += 1
    return moved


def resume(conn: sqlite3.Connection, now: datetime, match_seconds_floor: int = 0) -> int:
    """At start: ready matches get a fresh deadline (their players could not answer while we were down)."""
    n = 0
    for m in conn.execute(
        "SELECT m.tournament_id, m.match_no, t.match_seconds FROM tournament_matches m "
        "JOIN tournaments t ON t.id = m.tournament_id WHERE m.status = 'ready'"
    ).fetchall():
        conn.execute(
            "UPDATE tournament_matches SET due_at = ? WHERE tournament_id = ? AND match_no = ?",
            (iso(now + timedelta(seconds=max(m[2], match_seconds_floor))), m[0], m[1]),
        )
        n += 1
    return n


def next_due(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(
        "SELECT MIN(x) FROM (SELECT MIN(next_at) AS x FROM tournaments WHERE status = 'registering' "
        "UNION ALL SELECT MIN(due_at) FROM tournament_matches WHERE status = 'ready')"
    ).fetchone()
    return row[0]


def bracket(conn: sqlite3.Connection, tid: str) -> dict[str, Any]:
    """The tournament as the bracket view reads it (puzzles only for ready matches, answers never)."""
    t = get(conn, tid)
    names = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT p.user_id, u.username FROM tournament_players p JOIN users u ON u.id = p.user_id "
            "WHERE p.tournament_id = ?",
            (tid,),
        )
    }
    ps = [
        {
            "userId": r["user_id"],
            "username": names.get(r["user_id"]),
            "seed": r["seed"],
            "place": r["place"],
            "payout": r["payout"],
        }
        for r in conn.execute(
            "SELECT * FROM tournament_players WHERE tournament_id = ? ORDER BY COALESCE(seed, 999), joined_at", (tid,)
        )
    ]
    ms = []
    for m in conn.execute("SELECT * FROM tournament_matches WHERE tournament_id = ? ORDER BY match_no", (tid,)):
        item = {
            "match": m["match_no"],
            "bracket": m["bracket"],
            "round": m["round"],
            "position": m["position"],
            "a": m["player_a"],
            "b": m["player_b"],
            "status": m["status"],
            "winner": m["winner"],
            "how": m["how"],
            "dueAt": m["due_at"],
            "winTo": m["win_to"],
            "loseTo": m["lose_to"],
        }
        if m["status"] == "ready":
            item["puzzle"] = json.loads(m["puzzle"])["text"]
        ms.append(item)
    return {
        "id": t["id"],
        "name": t["name"],
        "format": t["format"],
        "status": t["status"],
        "entryFee": t["entry_fee"],
        "maxPlayers": t["max_players"],
        "matchSeconds": t["match_seconds"],
        "splitBps": json.loads(t["split_bps"]),
        "houseShare": t["house_bps"] / 10_000,
        "seedHash": t["seed_hash"],
        "serverSeed": t["server_seed"] if t["status"] in ("finished", "cancelled") else None,
        "seedsHash": t["seeds_hash"],
        "startsAt": t["starts_at"],
        "finishedAt": t["finished_at"],
        "pot": escrow.held(conn, tid),
        "outcome": json.loads(t["outcome"]) if t["outcome"] else None,
        "players": ps,
        "matches": ms,
    }


def listing(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "format": r["format"],
            "status": r["status"],
            "entryFee": r["entry_fee"],
            "maxPlayers": r["max_players"],
            "startsAt": r["starts_at"],
            "players": r["n"],
        }
        for r in conn.execute(
            "SELECT t.*, (SELECT COUNT(*) FROM tournament_players p WHERE p.tournament_id = t.id) AS n "
            "FROM tournaments t ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )
    ]
