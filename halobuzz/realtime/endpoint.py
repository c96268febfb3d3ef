"""GET /ws: authenticate, then read client envelopes and dispatch them.

Auth comes first: `?token=<access token>` or a first frame
`{"event": "auth", "data": {"token": "..."}}` within ws_auth_timeout seconds.
Each client frame gets either its effect or an `error {code, message, replyTo}`;
replies carry `replyTo` = the client frame's id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from sanic import Blueprint, Request
from websockets.frames import Opcode

from .. import events as ev
from ..errors import DomainError
from ..infra import netaddr
from . import protocol as p
from . import sanic_ws
from .hub import Conn

log = logging.getLogger("halobuzz.realtime")
bp = Blueprint("realtime")
MAX_BAD_FRAMES = 20
MAX_INFLIGHT = 32


async def _handle(rt, conn: Conn, msg: p.ClientFrame) -> None:
    try:
        await rt.dispatch(conn, msg)
    except DomainError as exc:
        body = exc.body()
        conn.error(body.pop("code"), body.pop("message"), msg.id, **body)
    except Exception:
        log.exception("ws handler failed", extra={"event": msg.event})
        conn.error("internal", "the server could not handle this frame", msg.id)


async def _refuse(ws, sv, code: int, reason: str) -> None:
    sv.hub.count_disconnect(code)
    await ws.close(code, reason)


async def _authenticate(request: Request, ws, sv) -> Any:
    token = request.args.get("token")
    reply_to = None
    if not token:
        try:
            raw = await asyncio.wait_for(ws.recv(), sv.settings.ws_auth_timeout)
        except asyncio.TimeoutError:
            raw = None
        if raw is None:
            await _refuse(ws, sv, p.CLOSE_AUTH, "authentication timed out")
            return None
        try:
            msg = p.decode_client(raw)
            reply_to = msg.id
            token = (msg.data or {}).get("token") if msg.event == ev.AUTH and isinstance(msg.data, dict) else None
        except (msgspec.DecodeError, msgspec.ValidationError, AttributeError):
            token = None
        if not token:
            await _refuse(ws, sv, p.CLOSE_AUTH, "the first frame must be auth {token}")
            return None
    try:
        return sv.accounts.authenticate(token), reply_to
    except DomainError as exc:
        await _refuse(ws, sv, p.CLOSE_AUTH, f"{exc.code}: {exc.message}"[:120])
        return None


class Inbox:
    """Stands in for Sanic's per-connection frame assembler once a socket is authenticated.

    Sanic's assembler keeps an asyncio.Queue, two Events and two Locks per connection, and
    every `ws.recv()` makes a task and two futures; with thousands of idle viewers that was
    ~5 KB each. Here frames are joined into a message and dispatched straight from Sanic's
    `process_events` (which runs them one at a time, in order), so an idle socket holds
    nothing but this small object. Chat frames are pipelined (up to MAX_INFLIGHT tasks per
    socket, started in order so they commit and reach the room in order); other frames are
    handled before the next frame is read. While a frame is being handled the transport
    stops reading, so a flooding client is throttled by TCP instead of piling up tasks.
    """

    __slots__ = ("rt", "conn", "ws", "chunks", "bad", "inflight")

    def __init__(self, rt, conn: Conn, ws) -> None:
        self.rt = rt
        self.conn = conn
        self.ws = ws
        self.chunks: list[bytes] | None = None
        self.bad = 0
        self.inflight: set[asyncio.Task] | None = None

    async def put(self, frame) -> None:
        op = frame.opcode
        if op is Opcode.TEXT or op is Opcode.BINARY:
            self.chunks = [frame.data]
        elif op is Opcode.CONT and self.chunks is not None:
            self.chunks.append(frame.data)
        else:
            return  # ping (answered by the protocol) or a stray continuation
        if not frame.fin:
            return
        raw = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks = None
        await self.handle(raw)

    async def handle(self, raw) -> None:
        conn = self.conn
        if conn.closed:
            return
        try:
            msg = p.decode_client(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.bad += 1
            conn.error("bad_frame", "every frame must be a JSON envelope {event, data, id, ts}")
            if self.bad > MAX_BAD_FRAMES:
                conn.close(p.CLOSE_BAD_FRAME, "too many bad frames")
            return
        if msg.event == ev.CHAT_NEW:
            inflight = self.inflight
            if inflight is None:
                inflight = self.inflight = set()
            if len(inflight) >= MAX_INFLIGHT:
                paused = self.ws.pause_frames()
                try:
                    while len(inflight) >= MAX_INFLIGHT:
                        await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if paused:
                        self.ws.resume_frames()
            t = asyncio.create_task(_handle(self.rt, conn, msg))
            inflight.add(t)
            t.add_done_callback(inflight.discard)
            return
        paused = self.ws.pause_frames()
        try:
            await _handle(self.rt, conn, msg)
        finally:
            if paused:
                self.ws.resume_frames()

    # Sanic's recv()/recv_burst() would call these; after the swap nobody may.
    async def get(self, timeout=None):
        raise RuntimeError("this websocket is read by its Inbox")

    async def get_iter(self):
        raise RuntimeError("this websocket is read by its Inbox")
        yield  # pragma: no cover


@bp.websocket("/ws")
async def ws_endpoint(request: Request, ws):
    sv = request.app.ctx.services
    rt = sv.realtime
    hub = rt.hub
    auth = await _authenticate(request, ws, sv)
    if auth is None:
        return
    who, reply_to = auth
    peer = request.conn_info.client_ip if request.conn_info else "unknown"
    ip = netaddr.client_ip(peer, request.headers.get("x-forwarded-for", ""), sv.settings.trusted_proxies)
    del request
    refused = hub.admit(who.user_id, ip)
    if refused:
        await _refuse(ws, sv, p.CLOSE_TOO_MANY, refused)
        return
    conn = hub.attach(ws, who.user_id, who.username, who.session_id, ip)
    conn.meta["expires"] = who.expires  # the revocation watcher closes it then (4007) unless re-authed
    loop = asyncio.get_running_loop()
    closed = conn.done = loop.create_future()
    inbox = Inbox(rt, conn, ws)
    # Conn.close resolves `closed` itself; so do a close frame, EOF and a lost connection.
    old = sanic_ws.take_over_reading(ws, inbox, closed)
    try:
        conn.send_event(
            ev.READY,
            {
                "userId": who.user_id,
                "username": who.username,
                "connectionId": conn.conn_id,
                "expiresAt": p.iso_ts(who.expires),
                "replyTo": reply_to,
            },
        )
        # A frame that reached Sanic's assembler before the swap (pipelined after a first-frame auth).
        while not conn.closed:
            pending = await old.get(0)
            if pending is None:
                break
            await inbox.handle(pending.encode() if isinstance(pending, str) else pending)
        del old
        if not conn.closed and not closed.done():
            try:
                await closed
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not closed.cancelled() or (task is not None and task.cancelling()):
                    raise
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # connection closed under us
        log.debug("ws read loop ended: %r", exc)
    finally:
        if not conn.closed:  # the client (or the network) ended it: count its close code
            code = sanic_ws.close_code_received(ws)
            hub.count_disconnect(code if code is not None else 1006)
        hub.detach(conn)
        conn.closed = True
        sanic_ws.release(ws)
