"""Streams as the rest of the app sees them: lifecycle writes + live registry + media credentials.

Plain async methods over the single writer; events are emit()ted inside the write
unit and the in-memory registry follows in its after-commit hook, so both happen
even when the caller went away after COMMIT. No Sanic here.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from ..db import emit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import STREAM_ENDED, STREAM_STARTED, Event
from ..infra.clock import parse_iso
from . import checkpoint, lifecycle, media
from .live import LiveStats, LiveStreams

log = logging.getLogger("halobuzz.streams")


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "o" or int(value) < 0:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("cursor is not valid", field="cursor") from None


class Streams:
    def __init__(self, db, clock, ids, provider: media.MediaProvider, *, heartbeat_timeout: float) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.media = provider
        self.heartbeat_timeout = heartbeat_timeout
        self.trust_gates = None  # halobuzz.trust.gates.Gates, set by the app: going live needs trust
        self.live = LiveStreams()
        # Lifecycle observers (the built-in video path): `await o.stream_started(id, host_id)` after a
        # stream went live (before the host's credentials are made), `await o.stream_ended(id)` after it ended.
        self.observers: list[Any] = []

    # -- start-up ---------------------------------------------------------------------
    async def load(self) -> None:
        """Rebuild the live registry: every live stream gets a fresh heartbeat grace period."""
        now = self.clock.timestamp()
        for row in await self.db.readers.fetchall(
            "SELECT id, host_id, country, started_at FROM streams WHERE status = 'live'"
        ):
            started = parse_iso(row["started_at"])
            stats = self.live.add(
                row["id"], row["host_id"], row["country"], started.timestamp() if started else now, now
            )
            await checkpoint.restore(self.db.readers, stats)

    async def save_live_state(self) -> int:
        """Persist what changed in live streams since the last call (see streams/checkpoint.py)."""
        items = checkpoint.pending(list(self.live.by_id.values()), self.clock.timestamp())
        if items:
            now = self.clock.now()
            await self.db.write(lambda conn: checkpoint.save(conn, items, now))
        return len(items)

    # -- lifecycle --------------------------------------------------------------------
    async def create(self, host_id: str, title: str, category: str | None, country: str | None) -> dict[str, Any]:
        title, category = lifecycle.validate_new(title, category)
        host = self._user(host_id)
        country = (country or host["country"]).strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise Invalid("country must be an ISO 3166-1 alpha-2 code", field="country")
        sid, now = self.ids.new(), self.clock.now()
        row = await self.db.write(
            lambda conn: lifecycle.create(
                conn, stream_id=sid, host_id=host_id, title=title, category=category, country=country, now=now
            )
        )
        return lifecycle.to_json(row, host)

    async def start(self, stream_id: str, host_id: str) -> dict[str, Any]:
        now = self.clock.now()
        if self.trust_gates is not None:
            self.trust_gates.check(self.db.inline.conn, host_id, "go_live")

        def unit(conn):
            row = lifecycle.start(conn, stream_id, host_id, now)
            emit(conn, Event(STREAM_STARTED, {"streamId": stream_id, "hostId": host_id}, room=stream_id))
            return row

        await self.db.write(
            unit, after=lambda row: self.live.add(stream_id, host_id, row["country"], now.timestamp(), now.timestamp())
        )
        for observer in self.observers:
            await observer.stream_started(stream_id, host_id)
        out = self.view(stream_id)
        out["media"] = self.credentials(stream_id, host_id).as_json()
        return out

    async def end(self, stream_id: str, reason: str, *, host_id: str | None = None) -> dict[str, Any]:
        now = self.clock.now()
        stats = self.live.get(stream_id)
        analytics = stats.analytics() if stats else None

        def unit(conn):
            row = lifecycle.end(conn, stream_id, now, reason, analytics, host_id=host_id)
            checkpoint.clear(conn, stream_id)
            ended = lifecycle.to_json(row)
            emit(
                conn,
                Event(
                    STREAM_ENDED,
                    {"streamId": stream_id, "reason": reason, "analytics": ended["analytics"]},
                    room=stream_id,
                ),
            )
            return row

        row = await self.db.write(unit, after=lambda _row: self.live.remove(stream_id))
        for observer in self.observers:
            try:
                await observer.stream_ended(stream_id)
            except Exception:  # the stream has ended whatever an observer thinks
                log.exception("stream end observer failed", extra={"streamId": stream_id})
        return lifecycle.to_json(row, self._user(row["host_id"]))

    def heartbeat(self, stream_id: str, host_id: str | None = None) -> LiveStats:
        stats = self.live.get(stream_id)
        if stats is None:
            raise Conflict("the stream is not live", code="not_live", field="streamId")
        if host_id is not None and stats.host_id != host_id:
            raise Forbidden("only the host sends heartbeats", code="not_host")
        stats.heartbeat = self.clock.timestamp()
        return stats

    async def end_stale(self) -> list[str]:
        """End live streams whose host stopped sending heartbeats."""
        ended = []
        for sid in self.live.stale(self.clock.timestamp(), self.heartbeat_timeout):
            try:
                await self.end(sid, "heartbeat")
                ended.append(sid)
            except (Conflict, NotFound):
                self.live.remove(sid)
            except Exception:
                log.exception("could not end a stale stream", extra={"streamId": sid})
        return ended

    # -- reads ------------------------------------------------------------------------
    def _user(self, user_id: str):
        row = self.db.inline.one("SELECT id, username, country, og_level FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound("no such user")
        return row

    def row(self, stream_id: str):
        row = self.db.inline.one("SELECT * FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            raise NotFound("no such stream", field="streamId")
        return row

    def view(self, stream_id: str) -> dict[str, Any]:
        row = self.row(stream_id)
        stats = self.live.get(stream_id)
        return lifecycle.to_json(
            row, self._user(row["host_id"]), stats.snapshot(self.clock.timestamp()) if stats else None
        )

    def list_live(self, country: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        offset = decode_cursor(cursor)
        ranked = self.live.trending(self.clock.timestamp(), country.upper() if country else None)
        page = ranked[offset : offset + limit]
        items = []
        for sid, score in page:
            try:
                item = self.view(sid)
            except NotFound:
                continue
            item["trendingScore"] = score
            items.append(item)
        nxt = encode_cursor(offset + limit) if offset + limit < len(ranked) else None
        return {"items": items, "cursor": nxt}

    def credentials(self, stream_id: str, user_id: str) -> media.MediaCredentials:
        stats = self.live.get(stream_id)
        if stats is None:
            raise Conflict("the stream is not live", code="not_live", field="streamId")
        role = media.PUBLISHER if stats.host_id == user_id else media.SUBSCRIBER
        return self.media.credentials(stream_id, media.media_uid(user_id), role, self.clock.timestamp())
