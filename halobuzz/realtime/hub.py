"""Connections, rooms and fan-out with backpressure.

The fan-out path never awaits and never makes a task per client (the lever measured in
performance.md): an event is encoded and framed once and appended to its room's log; one
flusher task sweeps each dirty room and hands every member ONE joined write with everything
the member has not had yet (per-connection coalescing), straight to the connection's
transport. Each connection keeps a cursor (`seen`) into its room's log, so a message that
commits while a big room is being swept goes to the members not yet reached in that same
sweep (in the same write as the rest), and only the members already passed wait for the
next sweep: a message waits at most about one sweep, never "the rest of this walk + a
whole walk of its own".

Backpressure, per connection:
* if the transport already buffers more than HIGH_WATER bytes (the client is not
  reading), the frames go to the connection's own bounded backlog instead;
* when the backlog exceeds `ws_send_queue_bytes`, presence/metrics (lane 2) are shed
  first, then the oldest chat (lane 1); gift/throne/battle (lane 0) are never dropped —
  a client that cannot take them is disconnected with close code 4002;
* backlogged connections are drained on later ticks as their buffers empty.
So a slow or dead client costs the room one `get_write_buffer_size()` call per tick.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Iterable

from .. import events as ev
from ..infra.tasks import cancel_and_wait
from . import protocol as p
from . import sanic_ws

log = logging.getLogger("halobuzz.realtime")
HIGH_WATER = 64 * 1024
# Members visited between yields to the loop while sweeping a room. Small on purpose: every
# step of an inbound chat (frame read, handler task, commit handed back by the writer thread,
# publish) and every HTTP request waits for the current chunk to end, so with 500 (~5-15 ms a
# chunk) a chat message spent ~60 ms just reaching the room in a 5k room; 64 costs one extra
# loop iteration per 64 writes (~1-2 % of a sweep).
YIELD_EVERY = 64
# A fixed kernel send buffer per socket (instead of autotuning up to tcp_wmem max, 4 MB):
# bounds kernel memory per slow client and makes a stalled reader visible to backpressure quickly.
SOCKET_SNDBUF = 128 * 1024


class Conn:
    __slots__ = (
        "hub",
        "ws",
        "transport",
        "user_id",
        "username",
        "session_id",
        "ip",
        "room",
        "backlog",
        "backlog_bytes",
        "closed",
        "ping_fut",
        "conn_id",
        "limiter_key",
        "shed",
        "meta",
        "stalled_since",
        "done",
        "seen",
    )
    own_keepalive = False  # True for transports that ping by themselves (Socket.IO): the hub's pinger skips them

    def __init__(self, hub: "Hub", ws: Any, user_id: str, username: str, session_id: str, ip: str) -> None:
        self.hub = hub
        self.ws = ws
        self.transport = sanic_ws.transport(ws)
        self.user_id = user_id
        self.username = username
        self.session_id = session_id
        self.ip = ip
        self.room: Room | None = None
        self.backlog: deque | None = None
        self.backlog_bytes = 0
        self.closed = False
        self.ping_fut: asyncio.Future | None = None
        self.conn_id = p.next_id()
        self.limiter_key = f"{user_id}:{self.conn_id}"
        self.shed = 0
        self.meta: dict[str, Any] = {}
        self.stalled_since = 0.0
        self.done: asyncio.Future | None = None  # resolved when the socket is finished with
        self.seen = 0  # cursor into room.log: frames before it were handed to this connection

    # -- sending -------------------------------------------------------------------
    def send(self, data: bytes, lane: int = p.ESSENTIAL) -> None:
        """Hand framed bytes to this connection now (or to its backlog if it is behind)."""
        if self.closed:
            return
        if self.backlog is None and self.transport.get_write_buffer_size() < HIGH_WATER:
            self.transport.write(data)
            return
        self._enqueue(data, lane)

    def send_event(self, event: str, data: Any) -> None:
        self.send(p.frame(event, data), p.LANES.get(event, p.ESSENTIAL))

    def error(self, code: str, message: str, reply_to: str | None = None, **extra: Any) -> None:
        self.send_event(ev.ERROR, {"code": code, "message": message, "replyTo": reply_to, **extra})

    def _enqueue(self, data: bytes, lane: int) -> None:
        if self.backlog is None:
            self.backlog = deque()
            self.stalled_since = time.monotonic()
            self.hub.slow.add(self)
        self.backlog.append((lane, data))
        self.backlog_bytes += len(data)
        limit = self.hub.queue_limit
        if self.backlog_bytes <= limit:
            return
        for shed_lane in (p.PRESENCE, p.CHAT):
            kept: deque = deque()
            for item in self.backlog:
                if item[0] == shed_lane and self.backlog_bytes > limit:
                    self.backlog_bytes -= len(item[1])
                    self.shed += 1
                    self.hub.shed_total += 1
                else:
                    kept.append(item)
            self.backlog = kept
            if self.backlog_bytes <= limit:
                return
        self.hub.slow_disconnects += 1
        self.close(p.CLOSE_SLOW, "slow client: send queue overflow", hard=True)

    def drain(self) -> bool:
        """Write backlog while the transport has room. Returns True when fully drained."""
        if self.closed:
            return True
        backlog = self.backlog
        if backlog is None:
            return True
        transport = self.transport
        if backlog and transport.get_write_buffer_size() >= HIGH_WATER:
            if time.monotonic() - self.stalled_since > self.hub.stall_seconds:
                self.hub.slow_disconnects += 1
                self.close(p.CLOSE_SLOW, "slow client: not reading", hard=True)
                return True
            return False
        self.stalled_since = time.monotonic()
        while backlog and transport.get_write_buffer_size() < HIGH_WATER:
            chunk = []
            size = 0
            while backlog and size < HIGH_WATER:
                _, data = backlog.popleft()
                chunk.append(data)
                size += len(data)
            self.backlog_bytes -= size
            transport.write(b"".join(chunk))
        if backlog:
            return False
        self.backlog = None
        self.backlog_bytes = 0
        return True

    def close(self, code: int, reason: str, *, hard: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.hub.count_disconnect(code)
        if self.done is not None and not self.done.done():
            self.done.set_result(None)
        log.info("closing websocket", extra={"code": code, "reason": reason, "userId": self.user_id})
        self.hub.detach(self)
        ws = self.ws
        try:
            if hard:
                # Our own close frame goes behind whatever the client has not read yet (so a
                # client that resumes reading learns the code), then the socket is closed
                # (flushing) and aborted if it has not gone within 10 s.
                body = code.to_bytes(2, "big") + reason.encode()[:120]
                self.transport.write(bytes((0x88, len(body))) + body)
                ws.fail_connection(1006)
                loop = asyncio.get_running_loop()
                loop.call_later(10.0, self.transport.abort)
            else:
                ws.end_connection(code, reason)
        except Exception:
            self.transport.abort()


class Room:
    """A room's log of framed events in publish order (`frames`, with their `lanes`);
    `base` is the absolute index of frames[0]. Members hold absolute cursors into it; the
    flusher trims what every member has had."""

    __slots__ = ("id", "members", "frames", "lanes", "base", "hub")

    def __init__(self, hub: "Hub", room_id: str) -> None:
        self.hub = hub
        self.id = room_id
        self.members: set[Conn] = set()
        self.frames: list[bytes] = []
        self.lanes = bytearray()
        self.base = 0

    @property
    def end(self) -> int:
        return self.base + len(self.frames)

    def publish(self, data: bytes, lane: int) -> None:
        if not self.members:
            return
        self.frames.append(data)
        self.lanes.append(lane)
        self.hub.mark_dirty(self)


class Hub:
    def __init__(
        self,
        *,
        tick: float = 0.01,
        queue_limit: int = 512 * 1024,
        max_per_user: int = 10,
        max_per_ip: int = 500,
        ping_interval: float = 20.0,
        ping_timeout: float = 20.0,
        stall_seconds: float = 10.0,
    ) -> None:
        self.tick = tick
        self.stall_seconds = stall_seconds
        self.queue_limit = queue_limit
        self.max_per_user = max_per_user
        self.max_per_ip = max_per_ip
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.conns: set[Conn] = set()
        self.by_user: dict[str, set[Conn]] = {}
        self.by_ip: dict[str, int] = {}
        self.rooms: dict[str, Room] = {}
        self.dirty: dict[Room, None] = {}
        self.slow: set[Conn] = set()
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._last_flush = 0.0
        # counters for /metrics and tests
        self.shed_total = 0
        self.slow_disconnects = 0
        self.deliveries = 0
        self.writes = 0
        self.disconnects: dict[int, int] = {}  # close code -> count (ours and the clients')
        self.on_leave: list = []  # callbacks(conn, room_id) when a connection leaves a room
        self.relay = None  # (room_id, frame, lane) -> None: set on an origin serving edges

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._wake = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._flusher(), name="ws-flusher"),
            asyncio.create_task(self._pinger(), name="ws-pinger"),
        ]

    async def stop(self) -> None:
        for conn in list(self.conns):
            conn.close(p.CLOSE_SHUTDOWN, "server shutting down")
        await cancel_and_wait(self._tasks)

    # -- connections -----------------------------------------------------------------
    def admit(self, user_id: str, ip: str) -> str | None:
        """Why a new connection is refused, or None."""
        if len(self.by_user.get(user_id, ())) >= self.max_per_user:
            return f"too many connections for this account (max {self.max_per_user})"
        if self.by_ip.get(ip, 0) >= self.max_per_ip:
            return f"too many connections from this address (max {self.max_per_ip})"
        return None

    def attach(self, ws: Any, user_id: str, username: str, session_id: str, ip: str) -> Conn:
        conn = Conn(self, ws, user_id, username, session_id, ip)
        sock = conn.transport.get_extra_info("socket")
        if sock is not None:
            try:
                import socket

                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SNDBUF)
            except OSError:
                pass
        return self.add(conn)

    def add(self, conn: Conn) -> Conn:
        """Register a connection made elsewhere (a Socket.IO client) with the caps' bookkeeping."""
        user_id, ip = conn.user_id, conn.ip
        self.conns.add(conn)
        self.by_user.setdefault(user_id, set()).add(conn)
        self.by_ip[ip] = self.by_ip.get(ip, 0) + 1
        return conn

    def detach(self, conn: Conn) -> None:
        if conn not in self.conns:
            return
        self.conns.discard(conn)
        self.leave(conn)
        users = self.by_user.get(conn.user_id)
        if users is not None:
            users.discard(conn)
            if not users:
                del self.by_user[conn.user_id]
        n = self.by_ip.get(conn.ip, 0) - 1
        if n > 0:
            self.by_ip[conn.ip] = n
        else:
            self.by_ip.pop(conn.ip, None)
        self.slow.discard(conn)
        conn.backlog = None

    def join(self, conn: Conn, room_id: str) -> Room:
        if conn.room is not None and conn.room.id != room_id:
            self.leave(conn)
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(self, room_id)
        room.members.add(conn)
        conn.room = room
        conn.seen = room.base + len(room.frames)  # what was published before joining is not ours
        return room

    def leave(self, conn: Conn) -> str | None:
        room = conn.room
        if room is None:
            return None
        conn.room = None
        room.members.discard(conn)
        if not room.members:
            self.rooms.pop(room.id, None)
            self.dirty.pop(room, None)
        for cb in self.on_leave:
            try:
                cb(conn, room.id)
            except Exception:
                log.exception("leave callback failed")
        return room.id

    def members(self, room_id: str) -> Iterable[Conn]:
        room = self.rooms.get(room_id)
        return tuple(room.members) if room else ()

    # -- fan-out ---------------------------------------------------------------------
    def to_room(self, room_id: str, event: str, data: Any) -> None:
        room = self.rooms.get(room_id)
        relay = self.relay
        if relay is None:
            if room is not None and room.members:
                room.publish(p.frame(event, data), p.LANES.get(event, p.ESSENTIAL))
            return
        # An origin with edge processes: every room frame also goes to the edges (they hold
        # members of rooms this process may not), framed once for both.
        frame, lane = p.frame(event, data), p.LANES.get(event, p.ESSENTIAL)
        relay(room_id, frame, lane)
        if room is not None and room.members:
            room.publish(frame, lane)

    def publish_framed(self, room_id: str, frame: bytes, lane: int) -> None:
        """A frame made elsewhere (an edge receiving its origin's room events): same lanes, same shedding."""
        room = self.rooms.get(room_id)
        if room is not None and room.members:
            room.publish(frame, lane)

    def to_users(self, user_ids: Iterable[str], event: str, data: Any) -> None:
        blob = None
        lane = p.LANES.get(event, p.ESSENTIAL)
        for uid in user_ids:
            for conn in tuple(self.by_user.get(uid, ())):
                if blob is None:
                    blob = p.frame(event, data)
                conn.send(blob, lane)

    def mark_dirty(self, room: Room) -> None:
        if room not in self.dirty:
            self.dirty[room] = None
            if self._wake is not None:
                self._wake.set()

    async def _flusher(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            await wake.wait()
            wake.clear()
            # Leading edge: an idle hub flushes at once (lowest latency at low rates);
            # under load, messages gather for one tick and each member gets one write.
            wait = self._last_flush + self.tick - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_flush = time.monotonic()
            try:
                await self.flush()
            except Exception:
                log.exception("flush failed")
            if self.slow:
                wake.set()  # keep draining backlogs next tick

    async def flush(self) -> None:
        rooms, self.dirty = self.dirty, {}
        for room in rooms:
            await self._flush_room(room)
        if self.slow:
            for conn in tuple(self.slow):
                if conn.drain():
                    self.slow.discard(conn)
        await asyncio.sleep(0)

    async def _flush_room(self, room: Room) -> None:
        """One sweep over the room: each member that is behind gets ONE write with every frame
        from its cursor to the end of the log as the sweep reaches it. A big room is swept in
        chunks of YIELD_EVERY so HTTP and commits are not starved; frames that commit while
        the sweep yields are picked up by the members not reached yet (same write), and the
        members already passed get them on the next sweep (the room is dirty again).
        Members who left the room during the sweep are skipped; members who joined during it
        start at the end of the log as it was when they joined."""
        swept_to = room.base + len(room.frames)  # after this sweep every member has at least this
        members = tuple(room.members)
        n, i = len(members), 0
        cache: dict[int, bytes] = {}
        cache_end = -1
        while i < n:
            frames, base = room.frames, room.base
            end = base + len(frames)
            if end != cache_end:
                cache, cache_end = {}, end
            writes = deliveries = 0
            for conn in members[i : i + YIELD_EVERY]:
                seen = conn.seen
                if seen >= end or conn.closed or conn.room is not room:
                    continue
                conn.seen = end
                if seen < base:  # defensive: never slice from before the log's start
                    seen = base
                transport = conn.transport
                if conn.backlog is None and transport.get_write_buffer_size() < HIGH_WATER:
                    blob = cache.get(seen)
                    if blob is None:
                        blob = cache[seen] = b"".join(frames[seen - base :])
                    transport.write(blob)
                else:
                    self._backlog(conn, frames, room.lanes, seen - base)
                writes += 1
                deliveries += end - seen
            self.writes += writes
            self.deliveries += deliveries
            i += YIELD_EVERY
            if i < n:
                # Release the GIL for a moment: the writer thread (group commit) needs it for
                # every statement of a commit, and while a sweep keeps the loop thread busy it
                # would otherwise wait a whole switch interval (5 ms) each time — chat took
                # ~25 ms median / ~130 ms p99 from handler to room in a 5k room, now ~7 / ~20.
                time.sleep(0)
                await asyncio.sleep(0)
        drop = swept_to - room.base
        if drop > 0:
            room.frames = room.frames[drop:]
            room.lanes = room.lanes[drop:]
            room.base = swept_to

    @staticmethod
    def _backlog(conn: Conn, frames: list[bytes], lanes: bytearray, k: int) -> None:
        """Queue frames[k:] on a connection that is behind, one item per run of one lane."""
        n = len(frames)
        while k < n and not conn.closed:
            lane, j = lanes[k], k + 1
            while j < n and lanes[j] == lane:
                j += 1
            conn._enqueue(frames[k] if j == k + 1 else b"".join(frames[k:j]), lane)
            k = j

    # -- keepalive -------------------------------------------------------------------
    async def _pinger(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.ping_interval)
            round_ = []
            for conn in tuple(self.conns):
                if conn.closed or conn.own_keepalive:
                    continue
                try:
                    conn.ping_fut = self._ping(conn, loop)
                    round_.append(conn)
                except Exception:
                    conn.close(p.CLOSE_PING_TIMEOUT, "connection lost", hard=True)
            if round_:
                loop.call_later(self.ping_timeout, self._check_pings, round_)

    @staticmethod
    def _ping(conn: Conn, loop: asyncio.AbstractEventLoop) -> asyncio.Future:
        """A protocol-level ping written synchronously (no task, no lock per connection)."""
        return sanic_ws.send_ping(conn.ws, loop)

    def _check_pings(self, conns: list[Conn]) -> None:
        for conn in conns:
            fut = conn.ping_fut
            if not conn.closed and fut is not None and not fut.done():
                conn.close(p.CLOSE_PING_TIMEOUT, "ping timeout", hard=True)

    def count_disconnect(self, code: int) -> None:
        self.disconnects[code] = self.disconnects.get(code, 0) + 1

    def metrics_snapshot(self) -> dict[str, Any]:
        return {
            "connections": len(self.conns),
            "rooms": len(self.rooms),
            "deliveries": self.deliveries,
            "writes": self.writes,
            "shed": self.shed_total,
            "disconnects": dict(self.disconnects),
        }

    def stats(self) -> dict[str, int]:
        return {
            "connections": len(self.conns),
            "rooms": len(self.rooms),
            "slow": len(self.slow),
            "shed": self.shed_total,
            "slowDisconnects": self.slow_disconnects,
            "deliveries": self.deliveries,
            "writes": self.writes,
        }
