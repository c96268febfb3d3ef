"""Server-side anti-cheat: replayed intents refused, inhuman answers and same-IP rings flagged.

Flags go into the moderation review queue (moderation_flags, `type = 'user'`, automated:
no reporter) where a moderator confirms or dismisses them; nothing here punishes on its own.
Per-user rate limits are applied by the service before a write unit is queued.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from typing import Callable

from ..errors import Conflict, Invalid
from ..infra.clock import iso
from ..moderation import reports

_NONCE = re.compile(r"^[A-Za-z0-9._:\-]{8,64}$")


def use_nonce(conn: sqlite3.Connection, user_id: str, nonce: str | None, now: datetime) -> None:
    """Each intent carries a fresh client nonce; a nonce seen before is a replay (409)."""
    if not nonce or not _NONCE.match(nonce):
        raise Invalid("nonce must be 8-64 letters, digits or ._:- and new for every move", field="nonce")
    try:
        conn.execute("INSERT INTO game_nonces(user_id, nonce, at) VALUES (?,?,?)", (user_id, nonce, iso(now)))
    except sqlite3.IntegrityError:
        raise Conflict("this move was already sent (replayed nonce)", code="replayed_nonce", field="nonce") from None


def prune_nonces(conn: sqlite3.Connection, older_than: str, limit: int = 5000) -> int:
    return conn.execute(
        "DELETE FROM game_nonces WHERE rowid IN (SELECT rowid FROM game_nonces WHERE at < ? LIMIT ?)",
        (older_than, limit),
    ).rowcount


def _flag(
    conn: sqlite3.Connection, new_id: Callable[[], str], user_id: str, reason: str, details: dict, now: datetime
) -> None:
    reports.create_flag(
        conn,
        flag_id=new_id(),
        now=now,
        type="user",
        target_id=user_id,
        target_user_id=user_id,
        reason=reason,
        details=json.dumps(details, sort_keys=True),
    )


def too_fast(
    conn: sqlite3.Connection,
    new_id: Callable[[], str],
    round_id: str,
    user_id: str,
    question: int,
    ms: int,
    min_ms: int,
    now: datetime,
) -> bool:
    """An answer faster than human reaction is kept (it may be luck) but marked and queued once per round."""
    if ms >= min_ms:
        return False
    already = conn.execute(
        "SELECT COUNT(*) FROM game_answers WHERE round_id = ? AND user_id = ? AND flagged = 1", (round_id, user_id)
    ).fetchone()[0]
    conn.execute(
        "UPDATE game_answers SET flagged = 1 WHERE round_id = ? AND user_id = ? AND question = ?",
        (round_id, user_id, question),
    )
    if not already:
        _flag(
            conn,
            new_id,
            user_id,
            f"games: answer in {ms} ms, faster than human reaction ({min_ms} ms)",
            {"roundId": round_id, "question": question, "ms": ms},
            now,
        )
    return True


def same_ip_rings(
    conn: sqlite3.Connection, new_id: Callable[[], str], round_id: str, winners: set[str], now: datetime
) -> list[str]:
    """Several accounts from one IP in a round one of them won: each of them is queued for review."""
    flagged: list[str] = []
    rows = conn.execute(
        "SELECT ip, GROUP_CONCAT(DISTINCT user_id) FROM game_entries WHERE round_id = ? AND ip IS NOT "
        "NULL GROUP BY ip HAVING COUNT(DISTINCT user_id) > 1",
        (round_id,),
    ).fetchall()
    for ip, users_text in rows:
        users = sorted(users_text.split(","))
        if not winners & set(users):
            continue
        for uid in users:
            _flag(
                conn,
                new_id,
                uid,
                f"games: {len(users)} accounts from one IP played round {round_id}; one of them won",
                {"roundId": round_id, "ip": ip, "accounts": users},
                now,
            )
            flagged.append(uid)
    return flagged
