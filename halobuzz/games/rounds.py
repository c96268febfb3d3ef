"""The round table: creating rounds, entering them (stakes), ending them, and their proofs.

Status machine (every game):

    open ──(entries; the game's start)──▶ running ──▶ settled
      │                                      │
      └──────────────(refund)────────────────┴──▶ refunded

`next_at` is when the server must move the round next (lobby end, next question, draw,
deadline); the tick job advances every due round, one write unit each. A round ends exactly
once: its status leaves open/running in the same transaction as its settlement or refund
ledger transaction, whose key would refuse a second one anyway.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from datetime import datetime
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import GAME_JOINED, GAME_REFUNDED, GAME_ROUND, Event
from ..infra.clock import iso, parse_iso
from . import compliance, escrow, fairness
from .rules import CHANCE, GAMES, Rules

_SEED = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
LIVE = ("open", "running")


def get(conn: sqlite3.Connection, round_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM game_rounds WHERE id = ?", (round_id,)).fetchone()
    if row is None:
        raise NotFound("no such round", field="roundId")
    return row


def state(row: sqlite3.Row) -> dict[str, Any]:
    return json.loads(row["state"])


def create(
    conn: sqlite3.Connection,
    rules: Rules,
    *,
    game: str,
    stake: int,
    now: datetime,
    created_by: str | None = None,
    room_id: str | None = None,
    state_: dict[str, Any] | None = None,
    starts_at: datetime | None = None,
    next_at: datetime | None = None,
    round_id: str | None = None,
) -> sqlite3.Row:
    if game not in GAMES:
        raise Invalid(f"game must be one of {', '.join(GAMES)}", field="game")
    if stake <= 0:
        raise Invalid("stake must be a positive number of coins", field="stake")
    round_id = round_id or rules.new_id()
    server_seed = rules.new_seed()
    conn.execute(
        "INSERT INTO game_rounds(id, game, room_id, created_by, status, stake, ai_win_bps, house_bps, "
        "seed_hash, server_seed, state, starts_at, next_at, created_at) "
        "VALUES (?,?,?,?, 'open', ?,?,?,?,?,?,?,?,?)",
        (
            round_id,
            game,
            room_id,
            created_by,
            stake,
            rules.p_of(game),
            rules.house_bps.get(game, 0),
            fairness.commitment(server_seed),
            server_seed,
            json.dumps(state_ or {}),
            iso(starts_at),
            iso(next_at),
            iso(now),
        ),
    )
    return get(conn, round_id)


def entries(conn: sqlite3.Connection, round_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM game_entries WHERE round_id = ? ORDER BY entry_no", (round_id,)).fetchall()


def entrants(conn: sqlite3.Connection, round_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT user_id FROM game_entries WHERE round_id = ? GROUP BY user_id ORDER BY MIN(entry_no)", (round_id,)
        )
    ]


def client_seed_of(value: str | None) -> str:
    """The player's seed as given, or one from `secrets` when the client sent none."""
    if value is None or value == "":
        return secrets.token_hex(8)
    if not _SEED.match(value):
        raise Invalid("clientSeed must be 1-64 letters, digits or ._:-", field="clientSeed")
    return value


def join(
    conn: sqlite3.Connection,
    rules: Rules,
    round_id: str,
    user_id: str,
    now: datetime,
    *,
    client_seed: str | None = None,
    team: str | None = None,
    count: int = 1,
    ip: str | None = None,
    events: list[Event],
) -> dict[str, Any]:
    """Enter a round: compliance, stake into escrow, entry rows. Start rules are the game's."""
    r = get(conn, round_id)
    if r["status"] != "open":
        raise Conflict(f"this round is {r['status']}; entries are closed", code="round_closed", field="roundId")
    if r["game"] == "lottery" and r["next_at"] and parse_iso(r["next_at"]) <= now:
        # The draw is due and only waits for the tick: sales closed at the announced time.
        raise Conflict("this lottery is drawing; ticket sales are closed", code="round_closed", field="roundId")
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None:
        raise NotFound("no such user", field="user")
    if user["status"] != "active":
        raise Forbidden("this account cannot play", code="account_inactive")
    game = r["game"]
    if game != "lottery" and count != 1:
        raise Invalid("only lottery tickets can be bought several at once", field="count")
    mine = conn.execute(
        "SELECT COUNT(*) FROM game_entries WHERE round_id = ? AND user_id = ?", (round_id, user_id)
    ).fetchone()[0]
    if game == "lottery":
        if not 1 <= count or mine + count > rules.lottery_max_tickets:
            raise Invalid(f"at most {rules.lottery_max_tickets} tickets per player per draw", field="count")
    elif mine:
        raise Conflict("you are already in this round", code="already_joined", field="roundId")
    if game == "battle":
        if team not in ("a", "b"):
            raise Invalid("team must be a or b", field="team")
    elif team is not None:
        raise Invalid("only battles have teams", field="team")
    if game == "challenge" and r["created_by"] != user_id:
        raise Forbidden("a challenge is played by the player who opened it", code="not_your_challenge")
    if game in ("quiz", "battle") and r["created_by"] == user_id:
        raise Forbidden("the host runs this round and cannot play in it", code="host_cannot_play")
    seed = client_seed_of(client_seed)
    amount = r["stake"] * count
    pack = rules.packs.get(user["country"])
    compliance.check_stake(conn, user, amount, chance=CHANCE[game], pack=pack, today=now.date())
    first = conn.execute(
        "SELECT COALESCE(MAX(entry_no), 0) + 1 FROM game_entries WHERE round_id = ?", (round_id,)
    ).fetchone()[0]
    if count == 1:
        escrow.stake(conn, user, round_id, first, amount, now, rules.spend, game)
    else:
        escrow.stake_many(conn, user, round_id, first, count, r["stake"], now, rules.spend, game)
    at = iso(now)
    conn.executemany(
        "INSERT INTO game_entries(round_id, entry_no, user_id, client_seed, stake, team, ip, created_at) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [(round_id, i, user_id, seed, r["stake"], team, ip, at) for i in range(first, first + count)],
    )
    if r["room_id"]:
        events.append(
            Event(
                GAME_JOINED,
                {
                    "roundId": round_id,
                    "game": game,
                    "userId": user_id,
                    "username": user["username"],
                    "team": team,
                    "count": count,
                    "ts": at,
                },
                room=r["room_id"],
            )
        )
    return {
        "roundId": round_id,
        "entries": list(range(first, first + count)),
        "clientSeed": seed,
        "staked": amount,
        "seedHash": r["seed_hash"],
    }


def fix_seeds(conn: sqlite3.Connection, round_id: str) -> str:
    """Hash the client seeds in entry order; from now on the round's draws are determined."""
    seeds = [
        r[0]
        for r in conn.execute("SELECT client_seed FROM game_entries WHERE round_id = ? ORDER BY entry_no", (round_id,))
    ]
    h = fairness.client_seeds_hash(seeds)
    conn.execute("UPDATE game_rounds SET seeds_hash = ? WHERE id = ?", (h, round_id))
    return h


def draws(conn: sqlite3.Connection, round_id: str, start: int = 0) -> fairness.Draws:
    r = get(conn, round_id)
    return fairness.Draws(r["server_seed"], r["seeds_hash"], round_id, start)


def finish(
    conn: sqlite3.Connection,
    round_id: str,
    status: str,
    now: datetime,
    *,
    outcome: dict[str, Any],
    ai_won: bool | None = None,
    resolution: str,
) -> None:
    """The round's last transition: status, outcome, and the server seed revealed."""
    at = iso(now)
    cur = conn.execute(
        "UPDATE game_rounds SET status = ?, outcome = ?, ai_won = ?, resolution = ?, settled_at = ?, "
        "revealed_at = ?, next_at = NULL WHERE id = ? AND status IN ('open','running')",
        (status, json.dumps(outcome), None if ai_won is None else int(ai_won), resolution, at, at, round_id),
    )
    if cur.rowcount != 1:
        raise Conflict("this round has already ended", code="round_ended", field="roundId")


def refund(conn: sqlite3.Connection, round_id: str, now: datetime, reason: str, events: list[Event]) -> int:
    """Give every stake back (and any house match to the house) and end the round, once."""
    r = get(conn, round_id)
    if r["status"] not in LIVE:
        raise Conflict(f"this round is already {r['status']}", code="round_ended", field="roundId")
    stakes = [(e["user_id"], e["stake"]) for e in entries(conn, round_id)]
    back = escrow.refund(conn, round_id, stakes, now, r["game"], reason)
    conn.execute("UPDATE game_entries SET payout = stake WHERE round_id = ?", (round_id,))
    finish(
        conn,
        round_id,
        "refunded",
        now,
        outcome={"refunded": back, "reason": reason, "draws": state(r).get("draws", [])},
        resolution=f"refunded: {reason}",
    )
    users = tuple(sorted({uid for uid, _ in stakes}))
    data = {
        "roundId": round_id,
        "game": r["game"],
        "reason": reason,
        "refunded": back,
        "serverSeed": r["server_seed"],
        "seedHash": r["seed_hash"],
        "ts": iso(now),
    }
    events.append(Event(GAME_REFUNDED, data, room=r["room_id"], users=() if r["room_id"] else users[:1000]))
    return back


def settle(
    conn: sqlite3.Connection,
    round_id: str,
    payouts: dict[str, int],
    now: datetime,
    *,
    outcome: dict[str, Any],
    ai_won: bool | None,
    events: list[Event],
    result_event: str,
) -> dict[str, Any]:
    """Pay the winners and the house from escrow in one transaction; record per-entry payouts."""
    r = get(conn, round_id)
    payouts = {u: v for u, v in payouts.items() if v > 0}
    house = escrow.settle(conn, round_id, payouts, now, r["game"])
    for uid, amount in payouts.items():
        first = conn.execute(
            "SELECT MIN(entry_no) FROM game_entries WHERE round_id = ? AND user_id = ?", (round_id, uid)
        ).fetchone()[0]
        conn.execute(
            "UPDATE game_entries SET payout = ? WHERE round_id = ? AND entry_no = ?", (amount, round_id, first)
        )
    conn.execute("UPDATE game_entries SET payout = 0 WHERE round_id = ? AND payout IS NULL", (round_id,))
    outcome = {**outcome, "payouts": payouts, "house": house}
    finish(conn, round_id, "settled", now, outcome=outcome, ai_won=ai_won, resolution="settled")
    data = {
        "roundId": round_id,
        "game": r["game"],
        "payouts": payouts,
        "house": house,
        "aiWon": ai_won,
        "serverSeed": r["server_seed"],
        "seedHash": r["seed_hash"],
        "seedsHash": r["seeds_hash"],
        "outcome": outcome,
        "ts": iso(now),
    }
    events.append(
        Event(result_event, data, room=r["room_id"], users=() if r["room_id"] else tuple(sorted(payouts))[:1000])
    )
    return outcome


def round_event(r: sqlite3.Row, phase: str, now: datetime, **extra: Any) -> Event:
    return Event(
        GAME_ROUND,
        {
            "roundId": r["id"],
            "game": r["game"],
            "phase": phase,
            "seedHash": r["seed_hash"],
            "stake": r["stake"],
            "startsAt": r["starts_at"],
            "ts": iso(now),
            **extra,
        },
        room=r["room_id"],
    )


def public(conn: sqlite3.Connection, r: sqlite3.Row, bank=None, now: datetime | None = None) -> dict[str, Any]:
    """A round as clients see it: never the server seed before the reveal, never an open answer."""
    counts = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT user_id), "
        "SUM(team = 'a'), SUM(team = 'b') FROM game_entries WHERE round_id = ?",
        (r["id"],),
    ).fetchone()
    st = state(r)
    view: dict[str, Any] = {
        "id": r["id"],
        "game": r["game"],
        "roomId": r["room_id"],
        "status": r["status"],
        "stake": r["stake"],
        "aiWinRate": r["ai_win_bps"] / 10_000 if r["ai_win_bps"] is not None else None,
        "houseShare": r["house_bps"] / 10_000,
        "seedHash": r["seed_hash"],
        "seedsHash": r["seeds_hash"],
        "serverSeed": r["server_seed"] if r["revealed_at"] else None,
        "entries": counts[0],
        "players": counts[1],
        "startsAt": r["starts_at"],
        "nextAt": r["next_at"],
        "createdAt": r["created_at"],
        "settledAt": r["settled_at"],
        "resolution": r["resolution"],
        "pot": escrow.held(conn, r["id"]) if r["status"] in LIVE else None,
        "outcome": json.loads(r["outcome"]) if r["outcome"] else None,
    }
    if r["game"] == "battle":
        view["teams"] = {"a": counts[2] or 0, "b": counts[3] or 0, "ai": st.get("aiTeam")}
    if r["game"] in ("quiz", "battle") and st.get("picked") and bank is not None:
        from . import questions

        view["questions"] = questions.visible(st, bank, r["status"], now)
    if r["game"] == "challenge" and st.get("puzzle"):
        view["puzzle"] = {"text": st["puzzle"]["text"], "deadline": st.get("deadline")}
    if r["game"] == "lottery":
        view["drawsAt"] = r["next_at"] or st.get("drawsAt")
        view["splitBps"] = st.get("splitBps")
    return view


def proof(conn: sqlite3.Connection, round_id: str) -> dict[str, Any]:
    """Everything needed to recompute the round's draws without trusting the server."""
    r = get(conn, round_id)
    seeds = [e["client_seed"] for e in entries(conn, round_id)]
    revealed = bool(r["revealed_at"])
    out = json.loads(r["outcome"]) if r["outcome"] else {}
    return {
        "roundId": r["id"],
        "game": r["game"],
        "status": r["status"],
        "seedHash": r["seed_hash"],
        "serverSeed": r["server_seed"] if revealed else None,
        "clientSeeds": seeds,
        "clientSeedsHash": r["seeds_hash"],
        "aiWinBps": r["ai_win_bps"],
        "draws": out.get("draws", []),
        "algorithm": {
            "commitment": "seedHash = sha256(serverSeed as ASCII hex)",
            "clientSeedsHash": "sha256(clientSeeds joined with '\\n', UTF-8), entry order",
            "digest": "HMAC-SHA256(key = serverSeed (ASCII), msg = clientSeedsHash + ':' + roundId + ':' + nonce)",
            "u": "first 6 bytes of the digest, big-endian (0 <= u < 2^48)",
            "pick": "index = floor(u * n / 2^48)",
            "happens": "true iff u * 10000 < pBps * 2^48",
        },
        "verified": revealed and fairness.verify_commitment(r["server_seed"], r["seed_hash"]),
    }


def due(conn: sqlite3.Connection, now: datetime, limit: int = 200) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT id FROM game_rounds WHERE status IN ('open','running') AND next_at <= ? ORDER BY next_at LIMIT ?",
            (iso(now), limit),
        )
    ]


def record_draw(draw_log: list[dict[str, Any]], nonce: int, use: str, **what: Any) -> None:
    draw_log.append({"nonce": nonce, "use": use, **what})


def parse_time(text: str | None) -> datetime | None:
    return parse_iso(text)
