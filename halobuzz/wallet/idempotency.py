"""Idempotency-Key handling for mutating money calls, inside the same write unit as the work.

A first call stores its response with the key; a retry with the same key and the
same body returns that response; the same key with a different body is a 409.
Because lookup, work and store happen in one transaction, exactly one of two
racing retries does the work.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Any, Callable

from ..errors import Conflict, Invalid

_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


def check_key(key: str | None) -> str:
    if not key:
        raise Invalid("an Idempotency-Key header is required for this call", field="Idempotency-Key")
    if not _KEY.match(key):
        raise Invalid("Idempotency-Key must be 8-128 letters, digits or ._:-", field="Idempotency-Key")
    return key


def body_hash(route: str, body: Any) -> str:
    return hashlib.sha256((route + "\n" + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()


def once(
    conn: sqlite3.Connection,
    user_id: str,
    key: str,
    request_hash: str,
    at: str,
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Run `work` once per (user, key). Returns (status, response, replayed)."""
    row = conn.execute(
        "SELECT request_hash, status, response FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key)
    ).fetchone()
    if row:
        if row["request_hash"] != request_hash:
            raise Conflict(
                "this Idempotency-Key was used with a different request",
                code="idempotency_mismatch",
                field="Idempotency-Key",
            )
        return row["status"], json.loads(row["response"]), True
    status, response = work()
    conn.execute(
        "INSERT INTO idempotency(user_id, key, request_hash, status, response, created_at) VALUES (?,?,?,?,?,?)",
        (user_id, key, request_hash, status, json.dumps(response, separators=(",", ":")), at),
    )
    return status, response, False


def prune(conn: sqlite3.Connection, older_than: str, limit: int = 5000) -> int:
    """Forget stored answers older than `older_than`. The ledger keeps every money key forever,
    so a very late retry is still refused as a duplicate; it just gets a 409, not the replay."""
    return conn.execute(
        "DELETE FROM idempotency WHERE (user_id, key) IN (SELECT user_id, key FROM idempotency "
        "WHERE created_at < ? LIMIT ?)",
        (older_than, limit),
    ).rowcount
