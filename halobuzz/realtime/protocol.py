"""The wire protocol of /ws: one JSON envelope per websocket frame, both ways.

    {"event": "chat:new", "data": {...}, "id": "...", "ts": "2026-01-01T00:00:00.000Z"}

Server frames are encoded ONCE per event and framed once (RFC 6455 text frame,
unmasked, no extensions), then the same bytes go to every recipient. Coalescing
never changes this: a tick's messages for a connection are several complete
frames handed to the kernel in one write.
"""

from __future__ import annotations

import itertools
import os
import struct
import time
from datetime import datetime, timezone
from typing import Any

import msgspec

from .. import events as ev

# Priority lanes. 0 is never dropped (a client that cannot take it is disconnected);
# 2 is shed first, then 1 (oldest first).
ESSENTIAL, CHAT, PRESENCE = 0, 1, 2
LANES = {
    ev.GIFT_SENT: ESSENTIAL,
    ev.THRONE_CLAIMED: ESSENTIAL,
    ev.BATTLE_BOOST: ESSENTIAL,
    ev.BATTLE_START: ESSENTIAL,
    ev.BATTLE_SCORE: ESSENTIAL,
    ev.BATTLE_END: ESSENTIAL,
    ev.BATTLE_INVITE: ESSENTIAL,
    ev.STREAM_ENDED: ESSENTIAL,
    ev.STREAM_STARTED: ESSENTIAL,
    ev.OG_CHANGED: ESSENTIAL,
    ev.AI_WARNING: ESSENTIAL,
    ev.ROOM_SANCTION: ESSENTIAL,
    ev.ROOM_SETTINGS: ESSENTIAL,
    ev.CHAT_DELETED: ESSENTIAL,
    ev.CHAT_PINNED: ESSENTIAL,
    ev.DM_NEW: ESSENTIAL,
    ev.DM_READ: ESSENTIAL,
    ev.ERROR: ESSENTIAL,
    ev.READY: ESSENTIAL,
    ev.STREAM_STATE: ESSENTIAL,
    # Games: results, payouts, refunds and timed questions must arrive; joins are presence.
    ev.GAME_ROUND: ESSENTIAL,
    ev.GAME_QUESTION: ESSENTIAL,
    ev.GAME_RESULT: ESSENTIAL,
    ev.GAME_DRAW: ESSENTIAL,
    ev.GAME_REFUNDED: ESSENTIAL,
    ev.GAME_JOINED: PRESENCE,
    **{name: ESSENTIAL for name in ev.TOURNAMENT_EVENTS},
    ev.CHAT_NEW: CHAT,
    ev.STREAM_JOIN: PRESENCE,
    ev.STREAM_LEAVE: PRESENCE,
    ev.METRICS_UPDATE: PRESENCE,
    ev.PONG: PRESENCE,
}

# Close codes (4000-4999 are the application's range).
CLOSE_AUTH = 4001  # no or bad token / auth timeout
CLOSE_SLOW = 4002  # send queue overflowed with essential events: client too slow
CLOSE_REMOVED = 4003  # account banned or suspended, session logged out or revoked
CLOSE_TOO_MANY = 4004  # connection cap per user or per IP
CLOSE_PING_TIMEOUT = 4005  # no pong in time
CLOSE_BAD_FRAME = 4006  # not an envelope / too many bad frames
CLOSE_TOKEN_EXPIRED = 4007  # the access token expired and no fresh `auth` frame came: reconnect
CLOSE_SHUTDOWN = 1001

_encoder = msgspec.json.Encoder()
_seq = itertools.count(1)
_prefix = os.urandom(3).hex()


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_ts(ts: float) -> str | None:
    """Unix seconds as the contract's ISO-8601 UTC form (None for 0)."""
    if not ts:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def next_id() -> str:
    return f"{_prefix}{next(_seq):x}"


def envelope(event: str, data: Any, *, ts: str | None = None, msg_id: str | None = None) -> bytes:
    return _encoder.encode({"event": event, "data": data, "id": msg_id or next_id(), "ts": ts or now_iso()})


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (server → client)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


def frame(event: str, data: Any, **kw: Any) -> bytes:
    return text_frame(envelope(event, data, **kw))


class ClientFrame(msgspec.Struct, forbid_unknown_fields=False):
    event: str
    data: Any = None
    id: str | None = None
    ts: str | None = None


_decoder = msgspec.json.Decoder(ClientFrame)


def decode_client(raw: str | bytes) -> ClientFrame:
    """Raises msgspec.DecodeError / ValidationError on a bad frame."""
    return _decoder.decode(raw)


def monotonic_ms() -> float:
    return time.monotonic() * 1000.0
