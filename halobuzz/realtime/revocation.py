"""Revocation reaches open sockets: bans, suspensions, logouts and ended sessions close them.

Every way a session ends or an account is blocked leaves a row in `revocations` (triggers,
migration 0008), whichever process made the change (this server, the CLI, a restore). The
watcher reads the rows past its cursor a few times a second and closes every matching socket
with 4003 and the reason. One indexed read per poll (cached by the inline reader until some
commit happens), so an idle server pays almost nothing.

The same loop closes sockets whose access token has expired (4007) unless the client sent a
fresh `auth {token}` frame before: a socket never outlives the token that opened it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from ..infra.tasks import cancel_and_wait
from . import protocol as p

log = logging.getLogger("halobuzz.realtime")
POLL_SECONDS = 0.25


class RevocationWatcher:
    def __init__(self, db, hub, clock, *, interval: float = POLL_SECONDS) -> None:
        self.db = db
        self.hub = hub
        self.clock = clock
        self.interval = interval
        self.cursor = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        row = self.db.inline.one("SELECT COALESCE(MAX(id), 0) FROM revocations")
        self.cursor = row[0] if row else 0
        self._task = asyncio.create_task(self._loop(), name="ws-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.poll()
            except Exception:
                log.exception("revocation poll failed")

    def poll(self) -> int:
        """Close what was revoked since the last poll and what has expired. Returns sockets closed."""
        closed = 0
        top = self.db.inline.one("SELECT COALESCE(MAX(id), 0) FROM revocations")[0]
        if top > self.cursor:
            rows = self.db.inline.all(
                "SELECT id, user_id, session_id, reason FROM revocations WHERE id > ? ORDER BY id", (self.cursor,)
            )
            for r in rows:
                closed += self.revoke(r["user_id"], r["session_id"], r["reason"])
                self.cursor = max(self.cursor, r["id"])
        now = self.clock.timestamp()
        for conn in tuple(self.hub.conns):
            expires = conn.meta.get("expires")
            if expires and expires <= now and not conn.closed:
                conn.close(p.CLOSE_TOKEN_EXPIRED, "access token expired: reconnect with a fresh token")
                closed += 1
        return closed

    def revoke(self, user_id: str, session_id: str | None, reason: str) -> int:
        n = 0
        for conn in tuple(self.hub.by_user.get(user_id, ())):
            if session_id is None or conn.session_id == session_id:
                conn.close(p.CLOSE_REMOVED, reason[:100])
                n += 1
        return n


def prune(conn: sqlite3.Connection, before: str, limit: int = 5000) -> int:
    """Forget revocations older than `before` (ISO time): every running server has acted on them.
    The newest row always stays: ids are rowids (max + 1), and watchers' cursors rely on them
    never going backwards."""
    return conn.execute(
        "DELETE FROM revocations WHERE id IN (SELECT id FROM revocations WHERE at < ? "
        "AND id < (SELECT MAX(id) FROM revocations) ORDER BY id LIMIT ?)",
        (before, limit),
    ).rowcount
