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

from .. import events as ev
from ..api.middleware import client_ip
from ..errors import DomainError
from . import protocol as p
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


async def _authenticate(request: Request, ws, hb) -> Any:
    token = request.args.get("token")
    reply_to = None
    if not token:
        try:
            raw = await asyncio.wait_for(ws.recv(), hb.settings.ws_auth_timeout)
        except asyncio.TimeoutError:
            raw = None
        if raw is None:
            await ws.close(p.CLOSE_AUTH, "authentication timed out")
            return None
        try:
            msg = p.decode_client(raw)
            reply_to = msg.id
            token = (msg.data or {}).get("token") if msg.event == p.AUTH and isinstance(msg.data, dict) else None
        except (msgspec.DecodeError, msgspec.ValidationError, AttributeError):
            token = None
        if not token:
            await ws.close(p.CLOSE_AUTH, "the first frame must be auth {token}")
            return None
    try:
        return hb.accounts.authenticate(token), reply_to
    except DomainError as exc:
        await ws.close(p.CLOSE_AUTH, f"{exc.code}: {exc.message}"[:120])
        return None


@bp.websocket("/ws")
async def ws_endpoint(request: Request, ws):
    hb = request.app.ctx.hb
    rt = hb.extras["realtime"]
    hub = rt.hub
    auth = await _authenticate(request, ws, hb)
    if auth is None:
        return
    who, reply_to = auth
    ip = client_ip(request, hb.settings.trusted_proxies)
    refused = hub.admit(who.user_id, ip)
    if refused:
        await ws.close(p.CLOSE_TOO_MANY, refused)
        return
    conn = hub.attach(ws, who.user_id, who.username, who.session_id, ip)
    try:
        conn.send_event(p.READY, {"userId": who.user_id, "username": who.username, "connectionId": conn.conn_id,
                                  "replyTo": reply_to})
        bad = 0
        inflight: set[asyncio.Task] = set()
        while not conn.closed:
            raw = await ws.recv()
            if raw is None:
                break
            try:
                msg = p.decode_client(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                bad += 1
                conn.error("bad_frame", "every frame must be a JSON envelope {event, data, id, ts}")
                if bad > MAX_BAD_FRAMES:
                    conn.close(p.CLOSE_BAD_FRAME, "too many bad frames")
                continue
            if msg.event == ev.CHAT_NEW:
                # Pipelined: a sender's messages do not wait for each other's group commit.
                # Tasks start in order, their write units queue in order and commit in order,
                # so the room sees them in the order sent. At most MAX_INFLIGHT per socket.
                while len(inflight) >= MAX_INFLIGHT:
                    await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                t = asyncio.create_task(_handle(rt, conn, msg))
                inflight.add(t)
                t.add_done_callback(inflight.discard)
            else:
                await _handle(rt, conn, msg)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # connection closed under us
        log.debug("ws read loop ended: %r", exc)
    finally:
        hub.detach(conn)
        conn.closed = True
