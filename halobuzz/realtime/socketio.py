"""Socket.IO at /socket.io/ (python-socketio, Sanic mode): the seed's clients on the same rooms as /ws.

Transport only: everything a Socket.IO client does ends in the same place a /ws client's frame
does, so the two kinds of client cannot drift apart.

* Auth: the access token in the connect packet's `auth` payload (`io(url, {auth: {token}})`);
  a refused connect gets `connect_error` with `{code, message, closeCode}` (the /ws close code).
  The per-user and per-IP connection caps are the hub's, shared with /ws.
* Client → server: `socket.emit(event, data)` is the /ws envelope `{event, data}`; it goes
  through the same dispatcher (rooms.Realtime.dispatch), chat pipelined like /ws.
* Server → client: every /ws frame becomes `emit(event, data)` (the envelope's `data`). Each
  Socket.IO connection is a hub member like a websocket (SioConn): same rooms, the same
  lanes, backlog, shedding and slow-client disconnects. A hub write is converted once (cached
  by its bytes, which the hub shares between the members at the same cursor); on the
  websocket transport the converted frames go straight to the socket's transport in one write
  (as /ws does), on polling they wait in Engine.IO's queue for the next GET.
* Acks: an emit with an ack callback is given an id; the server frame whose `data.replyTo` is
  that id (stream:state, error, pong, dm:new, ai:warning ...) is delivered as the ack's one
  argument `{event, data}` instead of as an event. When the handler sends no reply (a chat
  that went out to the room), the ack is `{event: "ok", data: {replyTo}}`.
* Keepalive is Engine.IO's own ping/pong (pingInterval = ws_ping_interval,
  pingTimeout = ws_ping_timeout); polling and websocket transports, upgrade included.

Sanic mode works with Sanic 25.12 (polling, websocket, upgrade: tests/integration/test_socketio.py);
python-socketio's docs still advise ASGI for Sanic, which this single-process server does not use.
Internals of python-socketio / python-engineio used here, each checked by
tests/unit/realtime/test_socketio_internals.py so an upgrade that changes them fails there:
`AsyncServer._handle_event` (an incoming event with its ack id; our own handler ordering),
an Engine.IO socket's `queue`, `closed`, `upgraded`, `upgrading` (frames are handed over
synchronously from the hub's sweep, which never awaits) and `AsyncServer._async["websocket"]`
(the Sanic driver's websocket wrapper, subclassed to keep the Sanic websocket at hand).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from typing import Any

import msgspec
import socketio
from engineio import packet as eio_packet
from engineio.async_drivers import sanic as sanic_driver
from sanic import Sanic

from .. import events as ev
from ..errors import DomainError
from ..infra import netaddr
from . import protocol as p
from . import sanic_ws
from .endpoint import MAX_INFLIGHT, _handle
from .hub import Conn

log = logging.getLogger("halobuzz.realtime")
PATH = "socket.io"
ACK_DONE = "sio:ack"  # internal marker frame: the handler of an acked emit has finished
_CACHE_MAX = 512


class _Env(msgspec.Struct):
    event: str
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Reply(msgspec.Struct):
    replyTo: str | None = None  # noqa: N815 (wire name)


_env = msgspec.json.Decoder(_Env)
_reply = msgspec.json.Decoder(_Reply)
_enc = msgspec.json.encode


def split_frames(blob: bytes) -> list[bytes]:
    """The payloads of the unmasked text frames protocol.text_frame made, joined in `blob`."""
    out, i, n = [], 0, len(blob)
    while i < n:
        size = blob[i + 1] & 0x7F
        if size == 126:
            size = struct.unpack_from("!H", blob, i + 2)[0]
            i += 4
        elif size == 127:
            size = struct.unpack_from("!Q", blob, i + 2)[0]
            i += 10
        else:
            i += 2
        out.append(blob[i : i + size])
        i += size
    return out


class Converted:
    """One /ws frame as Socket.IO: the shared Engine.IO packet (polling), the same packet as a
    websocket frame, and the frame's `replyTo`."""

    __slots__ = ("packet", "size", "frame", "event", "data", "reply_to")

    def __init__(self, payload: bytes) -> None:
        env = _env.decode(payload)
        self.event = env.event
        self.data = env.data
        self.reply_to = None
        raw = bytes(env.data)
        if b'"replyTo"' in raw:
            try:
                self.reply_to = _reply.decode(raw).replyTo
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
        if env.event == ACK_DONE:
            self.packet, self.size, self.frame = None, 0, b""
            return
        # Engine.IO MESSAGE (4) of a Socket.IO EVENT (2) on the default namespace: 42["<event>",<data>]
        text = b"2[" + _enc(env.event) + b"," + raw + b"]"
        self.packet = eio_packet.Packet(eio_packet.MESSAGE, data=text.decode())
        self.size = len(text) + 1
        self.frame = p.text_frame(b"4" + text)


class Batch:
    """A hub write converted: its frames, and all their websocket frames joined (one write)."""

    __slots__ = ("items", "joined", "has_reply")

    def __init__(self, items: tuple[Converted, ...]) -> None:
        self.items = items
        self.joined = b"".join(i.frame for i in items)
        self.has_reply = any(i.reply_to is not None for i in items)


def ack_text(ack_id: int, item: Converted) -> str:
    """Socket.IO ACK (3<id>[arg]) whose one argument is {event, data} of the reply."""
    if item.packet is None:
        reply = {"event": "ok", "data": {"replyTo": item.reply_to}}
    else:
        reply = {"event": item.event, "data": msgspec.json.decode(bytes(item.data))}
    return "3" + str(ack_id) + _enc([reply]).decode()


class Converter:
    """/ws writes → Batches, cached by the written bytes (the hub hands the same blob object to
    every member at the same cursor, so a room's sweep converts it once)."""

    def __init__(self) -> None:
        self.cache: dict[bytes, Batch] = {}
        self.conversions = 0

    def __call__(self, blob: bytes) -> Batch:
        got = self.cache.get(blob)
        if got is None:
            if len(self.cache) >= _CACHE_MAX:
                self.cache.clear()
            got = self.cache[blob] = Batch(tuple(Converted(f) for f in split_frames(blob)))
            self.conversions += 1
        return got


class _RecordingWebSocket(sanic_driver.WebSocket):
    """Engine.IO's Sanic websocket wrapper, also leaving the Sanic websocket on the Engine.IO
    socket (`hb_ws`), so room frames can be written to its transport directly like /ws's."""

    async def __call__(self, environ):
        request = environ["sanic.request"]
        protocol = request.transport.get_protocol()
        self._sock = await protocol.websocket_handshake(request)
        self.environ = environ
        owner = getattr(self.handler, "__self__", None)
        if owner is not None:
            owner.hb_ws = self._sock
        await self.handler(self)
        return self.server._ok()


class SioConn(Conn):
    """A Socket.IO client as a hub member. The hub writes /ws frames to `transport` (this object);
    they become Engine.IO packets on the client's queue. `get_write_buffer_size` is what of ours
    is still queued there (not yet polled or written to the websocket), so the hub's high-water,
    backlog, shedding and stall rules apply unchanged."""

    __slots__ = ("gateway", "sid", "eio", "sizes", "queued", "acks", "held", "inflight")
    own_keepalive = True

    def __init__(
        self,
        gateway: "SocketIOGateway",
        sid: str,
        eio_socket: Any,
        user_id: str,
        username: str,
        session_id: str,
        ip: str,
    ) -> None:
        # Conn.__init__ reads a websocket's transport; a Socket.IO client has none of its own.
        self.hub = gateway.hub
        self.ws = None
        self.transport = self
        self.user_id, self.username, self.session_id, self.ip = user_id, username, session_id, ip
        self.room = None
        self.backlog = None
        self.backlog_bytes = 0
        self.closed = False
        self.ping_fut = None
        self.conn_id = p.next_id()
        self.limiter_key = f"{user_id}:{self.conn_id}"
        self.shed = 0
        self.meta = {"transport": "socket.io"}
        self.stalled_since = 0.0
        self.done = None
        self.seen = 0
        self.gateway = gateway
        self.sid = sid
        self.eio = eio_socket
        self.sizes: deque[int] = deque()  # sizes of our packets, in queue order
        self.queued = 0  # their total
        self.acks: dict[str, int] = {}  # replyTo token → Socket.IO ack id
        self.held: list[bytes] | None = []  # writes before the CONNECT answer was queued (None after)
        self.inflight: set[asyncio.Task] | None = None

    # -- the transport the hub writes to ------------------------------------------------
    def _direct(self):
        """The websocket transport to write frames to ourselves, once the client is on the
        websocket transport and none of our packets wait in Engine.IO's queue (order)."""
        eio = self.eio
        ws = getattr(eio, "hb_ws", None)
        if ws is None or not eio.upgraded or eio.upgrading or self._queued() > 0:
            return None
        return sanic_ws.transport(ws) if getattr(ws, "io_proto", None) is not None else None

    def _queued(self) -> int:
        sizes = self.sizes
        if sizes:
            # Engine.IO's queue is FIFO: whatever left it was ours, oldest first.
            extra = len(sizes) - self.eio.queue.qsize()
            while extra > 0:
                self.queued -= sizes.popleft()
                extra -= 1
        return self.queued

    def get_write_buffer_size(self) -> int:
        direct = self._direct()
        return self._queued() + (direct.get_write_buffer_size() if direct is not None else 0)

    def write(self, blob: bytes) -> None:
        if self.held is not None:
            self.held.append(blob)
            return
        if self.eio.closed:
            return
        batch = self.gateway.convert(blob)
        acks = self.acks
        direct = self._direct()
        if direct is not None:
            if not (acks and batch.has_reply):
                if batch.joined:
                    direct.write(batch.joined)
                return
            out = []
            for item in batch.items:
                if item.reply_to is not None and item.reply_to in acks:
                    out.append(p.text_frame(b"4" + ack_text(acks.pop(item.reply_to), item).encode()))
                else:
                    out.append(item.frame)
            direct.write(b"".join(out))
            return
        queue = self.eio.queue
        for item in batch.items:
            if acks and item.reply_to is not None and item.reply_to in acks:
                text = ack_text(acks.pop(item.reply_to), item)
                queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=text))
                self.sizes.append(len(text) + 1)
                self.queued += len(text) + 1
            elif item.packet is not None:
                queue.put_nowait(item.packet)
                self.sizes.append(item.size)
                self.queued += item.size

    def open(self) -> None:
        """Called once Socket.IO has queued its CONNECT answer: release what waited for it."""
        held, self.held = self.held, None
        for blob in held or ():
            self.write(blob)

    # -- closing ---------------------------------------------------------------------------
    def close(self, code: int, reason: str, *, hard: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.hub.count_disconnect(code)
        log.info("closing socket.io client", extra={"code": code, "reason": reason, "userId": self.user_id})
        self.hub.detach(self)
        if code == p.CLOSE_SHUTDOWN or hard:
            # Dropping the transport (no disconnect packet) lets the client reconnect by itself.
            self._disconnect(abort=True)
            return
        if not self.eio.closed:
            text = "2" + _enc([ev.ERROR, {"code": "closed", "closeCode": code, "message": reason}]).decode()
            self.eio.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=text))
        self._disconnect(abort=False)

    def _disconnect(self, *, abort: bool) -> None:
        task = asyncio.ensure_future(self._end(abort))
        self.gateway.tasks.add(task)
        task.add_done_callback(self.gateway.tasks.discard)

    async def _end(self, abort: bool) -> None:
        gw, eio = self.gateway, self.eio
        if abort:
            # No goodbye packet: to the client this is a lost transport, and it reconnects.
            await eio.close(wait=False, abort=True, reason=gw.sio.eio.reason.SERVER_DISCONNECT)
        else:
            await gw.sio.disconnect(self.sid)
        # Ends Engine.IO's websocket writer (which then closes the socket) or a pending poll.
        eio.queue.put_nowait(None)


class _Server(socketio.AsyncServer):
    """AsyncServer whose incoming events go to the gateway with their ack id."""

    gateway: "SocketIOGateway"

    async def _handle_event(self, eio_sid, namespace, id, data):  # noqa: A002 (python-socketio's name)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            return
        await self.gateway.on_event(sid, data, id)


class SocketIOGateway:
    """Built by app.build_services; `attach(app)` mounts /socket.io/, `stop()` on shutdown."""

    def __init__(self, settings, accounts, hub, realtime) -> None:
        s = settings
        self.settings = settings
        self.accounts = accounts
        self.rt = realtime
        self.hub = hub
        self.convert = Converter()
        self.conns: dict[str, SioConn] = {}
        self.tasks: set[asyncio.Task] = set()
        # CORS is the appliance's (cors_origins), not a second list here.
        self.sio = _Server(
            async_mode="sanic",
            cors_allowed_origins=list(s.cors_origins) or [],
            ping_interval=s.ws_ping_interval,
            ping_timeout=s.ws_ping_timeout,
            max_http_buffer_size=64 * 1024,
            async_handlers=False,
            namespaces=["/"],
            logger=False,
            engineio_logger=False,
        )
        self.sio.gateway = self
        self.sio.eio._async = {**self.sio.eio._async, "websocket": _RecordingWebSocket}
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)

    def attach(self, app: Sanic) -> None:
        self.sio.attach(app, socketio_path=PATH)

    async def stop(self) -> None:
        for conn in list(self.conns.values()):
            conn.close(p.CLOSE_SHUTDOWN, "server shutting down")
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=2)

    # -- connect / disconnect -----------------------------------------------------------------
    async def on_connect(self, sid: str, environ: dict, auth: Any = None):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise self._refuse("missing_token", "connect with auth {token: <access token>}", p.CLOSE_AUTH, sid)
        try:
            who = self.accounts.authenticate(token)
        except DomainError as exc:
            raise self._refuse(exc.code, exc.message, p.CLOSE_AUTH, sid) from None
        request = environ.get("sanic.request")
        peer = request.conn_info.client_ip if request is not None and request.conn_info else "unknown"
        forwarded = request.headers.get("x-forwarded-for", "") if request is not None else ""
        ip = netaddr.client_ip(peer, forwarded, self.settings.trusted_proxies)
        refused = self.hub.admit(who.user_id, ip)
        if refused:
            raise self._refuse("too_many_connections", refused, p.CLOSE_TOO_MANY, sid)
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        eio_socket = self.sio.eio.sockets.get(eio_sid)
        if eio_socket is None:  # gone while we looked
            return False
        conn = SioConn(self, sid, eio_socket, who.user_id, who.username, who.session_id, ip)
        self.hub.add(conn)
        self.conns[sid] = conn
        # python-socketio queues its CONNECT answer right after this handler returns (no await in
        # between), so anything queued from the next loop step on reaches the client after it.
        asyncio.get_running_loop().call_soon(self._opened, conn)
        return True

    def _refuse(self, code: str, message: str, close_code: int, sid: str) -> Exception:
        """connect_error on the client: err.message, err.data = {code, message, closeCode}. The
        Engine.IO session is closed right after (there is only one namespace to try), so a
        polling client's pending GET ends now instead of at the next ping."""
        self.hub.count_disconnect(close_code)
        eio_socket = self.sio.eio.sockets.get(self.sio.manager.eio_sid_from_sid(sid, "/"))
        if eio_socket is not None:
            asyncio.get_running_loop().call_soon(self._end_session, eio_socket)
        return socketio.exceptions.ConnectionRefusedError(
            message, {"code": code, "message": message, "closeCode": close_code}
        )

    def _end_session(self, eio_socket) -> None:
        if not eio_socket.closed:
            task = asyncio.ensure_future(
                eio_socket.close(wait=False, abort=False, reason=self.sio.eio.reason.SERVER_DISCONNECT)
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _opened(self, conn: SioConn) -> None:
        if conn.closed:
            return
        conn.open()
        conn.send_event(
            ev.READY, {"userId": conn.user_id, "username": conn.username, "connectionId": conn.conn_id, "replyTo": None}
        )

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.conns.pop(sid, None)
        if conn is None:
            return
        if not conn.closed:  # the client (or the network) ended it
            conn.closed = True
            code = (
                p.CLOSE_PING_TIMEOUT
                if reason == self.sio.reason.PING_TIMEOUT
                else 1000
                if reason == self.sio.reason.CLIENT_DISCONNECT
                else 1006
            )
            self.hub.count_disconnect(code)
            self.hub.detach(conn)
        conn.acks.clear()
        eio = conn.eio
        if not eio.upgraded:
            # A polling client's GET may be waiting on the queue: answer it with CLOSE now
            # (Engine.IO would otherwise hold it until the next ping interval).
            eio.queue.put_nowait(eio_packet.Packet(eio_packet.CLOSE))

    # -- client events ----------------------------------------------------------------------
    async def on_event(self, sid: str, data: list, ack_id: int | None) -> None:
        conn = self.conns.get(sid)
        if conn is None or conn.closed or not data or not isinstance(data[0], str):
            return
        msg_id = None
        if ack_id is not None:
            msg_id = f"{conn.conn_id}.{ack_id}"
            conn.acks[msg_id] = ack_id
        msg = p.ClientFrame(event=data[0], data=data[1] if len(data) > 1 else None, id=msg_id)
        if msg.event == ev.CHAT_NEW:
            # Pipelined like /ws: started in order, at most MAX_INFLIGHT per client; at the cap
            # this handler waits, and Engine.IO stops reading this client meanwhile.
            inflight = conn.inflight
            if inflight is None:
                inflight = conn.inflight = set()
            while len(inflight) >= MAX_INFLIGHT:
                await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.create_task(self._run(conn, msg))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            return
        await self._run(conn, msg)

    async def _run(self, conn: SioConn, msg: p.ClientFrame) -> None:
        await _handle(self.rt, conn, msg)
        if msg.id is not None and msg.id in conn.acks and not conn.closed:
            # Behind whatever the handler sent (the backlog keeps order): if no reply took
            # the ack on the way, this marker answers it.
            conn.send(p.frame(ACK_DONE, {"replyTo": msg.id}), p.ESSENTIAL)
