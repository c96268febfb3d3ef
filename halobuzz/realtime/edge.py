"""Edge fan-out: processes that hold viewer websockets for one shard's rooms, so a room can
outgrow one machine. The origin (the shard's appliance) keeps every write.

Origin side (`EdgeOrigin`, started by the appliance on a sharded deployment):
  * every room frame the origin's hub makes is also published, framed once, on the NATS core
    subject `<rooms subject>.ev.<room>` (first byte = lane);
  * a NATS request/reply service on `<rooms subject>.rpc` runs the writes edges forward:
    join (checks, presence, the stream:state answer), chat, like, leave; each request carries
    the viewer's access token and is authenticated here like a websocket of our own.

Edge side (`halobuzz serve --edge --shard B`, `build_edge_app`): no database. It verifies
tokens with the keys of the signed shard map (admission only: the origin authenticates every
forwarded write), holds the sockets in the same Hub (same lanes: gift/throne/battle frames are
never shed, a client that cannot take them is dropped), and feeds the origin's frames to its
rooms. Core NATS, not JetStream: room frames are live, a lost one is not replayed (a NATS
slow-consumer drop would lose frames for that edge: the edge's pending limits are raised).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from typing import Any

from .. import events as ev
from ..accounts.service import Principal
from ..errors import Conflict, DomainError, Invalid, Unauthorized
from . import protocol as p
from .hub import Conn, Hub

log = logging.getLogger("halobuzz.realtime")
RPC_TIMEOUT = 5.0
_edge_names = itertools.count()


def rooms_subject(shard_map, shard: str) -> str:
    return shard_map.shard(shard).subjects["rooms"]


# -- origin side -------------------------------------------------------------------------------


class EdgeOrigin:
    def __init__(self, rt, accounts, subject: str) -> None:
        self.rt, self.accounts, self.subject = rt, accounts, subject
        self._queue: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sub = None
        self._nc = None
        self.relayed = 0

    async def start(self, nc) -> None:
        self._nc = nc
        self._sub = await nc.subscribe(f"{self.subject}.rpc", cb=self._rpc)
        self._task = asyncio.create_task(self._publisher(), name="edge-relay")
        self.rt.hub.relay = self._relay

    async def stop(self) -> None:
        self.rt.hub.relay = None
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001 - connection already closed
                pass

    def _relay(self, room_id: str, frame: bytes, lane: int) -> None:
        # Called inside hub.to_room (never awaits): queue, one task publishes.
        self._queue.append((f"{self.subject}.ev.{room_id}", bytes((lane,)) + frame))
        self._wake.set()

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            queue, nc = self._queue, self._nc
            while queue:
                subject, payload = queue.popleft()
                try:
                    await nc.publish(subject, payload)
                    self.relayed += 1
                except Exception as exc:  # noqa: BLE001 - NATS away: live frames are not kept
                    log.debug("edge relay publish failed: %r", exc)

    async def _rpc(self, msg) -> None:
        try:
            req = json.loads(msg.data)
            who = self.accounts.authenticate(str(req.get("token") or ""))
            body = await self.handle(who, req)
            answer = {"ok": True, **body}
        except DomainError as exc:
            answer = {"ok": False, "error": exc.body()}
        except Exception:  # noqa: BLE001
            log.exception("edge rpc failed")
            answer = {"ok": False, "error": {"code": "internal", "message": "the origin could not handle this"}}
        try:
            await msg.respond(json.dumps(answer).encode())
        except Exception:  # noqa: BLE001 - the edge gave up waiting
            pass

    async def handle(self, who: Principal, req: dict[str, Any]) -> dict[str, Any]:
        rt = self.rt
        op, sid = req.get("op"), str(req.get("streamId") or "")
        if op == "join":
            row = rt.streams.row(sid)
            stats = rt.streams.live.get(sid)
            if row["status"] != "live" or stats is None:
                raise Conflict("the stream is not live", code="not_live", field="streamId")
            rt.chat.check_can_join(who.user_id, row["host_id"])
            await rt.chat.rebuild_backlog(sid)  # no-op unless the origin restarted mid-stream
            user = rt.chat.user(who.user_id)
            first = stats.join(who.user_id)
            state = {
                "stream": rt.streams.view(sid),
                "recentChat": rt.chat.recent(sid),
                "pinned": None,
                "battle": rt.battles.active_for(sid) if rt.battles else None,
                "you": {
                    "id": who.user_id,
                    "username": who.username,
                    "ogLevel": user["og_level"],
                    "canModerate": rt.chat.can_moderate(who.user_id, row["host_id"]),
                },
            }
            if first:
                rt.hub.to_room(
                    sid,
                    ev.STREAM_JOIN,
                    {
                        "streamId": sid,
                        "user": {"id": who.user_id, "username": who.username, "ogLevel": user["og_level"]},
                        "viewers": stats.viewer_count,
                    },
                )
            return {"state": state}
        if op == "leave":
            stats = rt.streams.live.get(sid)
            if stats is not None and stats.leave(who.user_id):
                rt.hub.to_room(
                    sid, ev.STREAM_LEAVE, {"streamId": sid, "userId": who.user_id, "viewers": stats.viewer_count}
                )
            return {}
        if op == "chat":
            text = req.get("text")
            if not isinstance(text, str):
                raise Invalid("text must be a string", field="text")
            outcome = await rt.chat.send(who.user_id, sid, text)
            warning = None
            v = outcome.verdict
            if v.action != "allow":
                warning = {
                    "streamId": sid,
                    "messageId": outcome.message_id,
                    "blocked": v.action == "block",
                    **v.as_json(),
                }
            # The message itself reaches the room (and, through the relay, every edge) from the
            # chat:new event its write unit emitted, like a chat sent on the origin.
            return {"warning": warning}
        if op == "like":
            stats = rt.streams.live.get(sid)
            if stats is not None:
                stats.like(max(1, min(int(req.get("count", 1) or 1), 10)))
            return {}
        raise Invalid(f"unknown edge operation {op!r}", field="op")


# -- edge side ---------------------------------------------------------------------------------


class EdgeAccounts:
    """Admission on an edge: signature and expiry from the map's keys; the origin re-checks each write."""

    def __init__(self, access, shard: str, clock) -> None:
        self.access, self.shard, self.clock = access, shard, clock

    def authenticate(self, token: str) -> Principal:
        claims = self.access.verify(token, self.clock.now().timestamp())
        if claims.visitor is None:
            raise Unauthorized("this token carries no profile for other shards", code="invalid_token")
        name = str(claims.visitor.get("name") or claims.user_id)
        # The connection's session_id slot carries the token itself on an edge: every write is
        # forwarded with it, for the origin to authenticate.
        if claims.issuer == self.shard:
            return Principal(claims.user_id, token, "user", "", name)
        return Principal(f"{claims.user_id}@{claims.issuer}", token, "user", "", f"{name[:40]}@{claims.issuer}")


class EdgeRealtime:
    """What endpoint.py's Inbox dispatches to on an edge: frames become origin requests."""

    def __init__(self, hub: Hub, subject: str) -> None:
        self.hub, self.subject = hub, subject
        self.nc = None
        self._sub = None
        hub.on_leave.append(self._left)

    async def start(self, nc) -> None:
        self.nc = nc
        # One subscription for the shard's rooms; frames of rooms with no member here are dropped
        # by publish_framed at the cost of a dict lookup.
        self._sub = await nc.subscribe(
            f"{self.subject}.ev.*", cb=self._frame, pending_msgs_limit=1_000_000, pending_bytes_limit=1 << 30
        )

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001
                pass

    async def _frame(self, msg) -> None:
        room = msg.subject.rsplit(".", 1)[1]
        data = msg.data
        self.hub.publish_framed(room, data[1:], data[0])

    async def _call(self, conn: Conn, body: dict[str, Any]) -> dict[str, Any]:
        body["token"] = conn.session_id  # the viewer's token (EdgeAccounts)
        try:
            reply = await self.nc.request(f"{self.subject}.rpc", json.dumps(body).encode(), timeout=RPC_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - origin or NATS away
            from ..errors import Unavailable

            raise Unavailable(f"the origin did not answer ({type(exc).__name__})", code="origin_unavailable") from None
        answer = json.loads(reply.data)
        if not answer.get("ok"):
            err = dict(answer.get("error") or {})
            raise DomainError(
                str(err.pop("message", "refused")),
                code=str(err.pop("code", "refused")),
                fields=err.pop("fields", None),
                status=409,
                extra=err,
            )
        return answer

    async def dispatch(self, conn: Conn, msg: p.ClientFrame) -> None:
        data = msg.data if isinstance(msg.data, dict) else {}
        if msg.event == ev.STREAM_JOIN:
            sid = data.get("streamId")
            if not isinstance(sid, str) or not sid:
                raise Invalid("streamId is required", field="streamId")
            answer = await self._call(conn, {"op": "join", "streamId": sid})
            self.hub.join(conn, sid)
            conn.send_event(ev.STREAM_STATE, {"replyTo": msg.id, **answer["state"]})
        elif msg.event == ev.STREAM_LEAVE:
            self.hub.leave(conn)
        elif msg.event == ev.CHAT_NEW:
            sid = data.get("streamId") or (conn.room.id if conn.room else None)
            if not sid or conn.room is None or conn.room.id != sid:
                raise Conflict("join the stream before chatting", code="not_in_room", field="streamId")
            answer = await self._call(conn, {"op": "chat", "streamId": sid, "text": data.get("text")})
            if answer.get("warning"):
                conn.send_event(ev.AI_WARNING, {**answer["warning"], "replyTo": msg.id})
        elif msg.event == "stream:like":
            if conn.room is None:
                raise Conflict("join the stream first", code="not_in_room")
            await self._call(conn, {"op": "like", "streamId": conn.room.id, "count": data.get("count", 1)})
        elif msg.event == "ping":
            conn.send_event(ev.PONG, {"replyTo": msg.id})
        else:
            conn.error("unknown_event", f"{msg.event!r} is not handled by an edge; use the origin", msg.id)

    def _left(self, conn: Conn, room_id: str) -> None:
        if self.nc is None:
            return
        payload = json.dumps({"op": "leave", "streamId": room_id, "token": conn.session_id}).encode()

        async def tell() -> None:
            try:
                await self.nc.request(f"{self.subject}.rpc", payload, timeout=RPC_TIMEOUT)
            except Exception:  # noqa: BLE001 - presence is best effort
                pass

        asyncio.get_running_loop().create_task(tell())


# -- the edge process --------------------------------------------------------------------------


def build_edge_app(settings):
    """`halobuzz serve --edge --shard B`: websockets for shard B's rooms, fed by B's origin over NATS."""
    from types import SimpleNamespace

    import nats
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sanic import Sanic
    from sanic.response import json as json_response

    from ..accounts.tokens import AccessTokens
    from ..infra.clock import Clock
    from ..shards.exchange import server_list
    from ..shards.shardmap import load_public, load_verified, public_b64
    from . import endpoint, sanic_ws

    if not settings.shard_map:
        raise Invalid("an edge needs the shard map (setting shard_map)", field="shard_map")
    from pathlib import Path

    trusted = settings.shard_operator_key
    trusted = Path(trusted).read_text() if trusted and Path(trusted).is_file() else trusted
    if not trusted:
        raise Invalid("an edge needs the operator key (setting shard_operator_key)", field="shard_operator_key")
    shard_map = load_verified(Path(settings.shard_map), public_b64(load_public(trusted)), settings.shard_id)
    clock = Clock()
    # An edge signs nothing: a throwaway key, and every shard's key from the verified map.
    access = AccessTokens(
        Ed25519PrivateKey.generate(), "edge", settings.access_token_ttl, peer_keys=shard_map.peer_keys(), kid="edge"
    )
    s = settings
    hub = Hub(
        tick=s.ws_tick_ms / 1000.0,
        queue_limit=s.ws_send_queue_bytes,
        max_per_user=s.ws_max_per_user,
        max_per_ip=s.ws_max_per_ip,
        ping_interval=s.ws_ping_interval,
        ping_timeout=s.ws_ping_timeout,
        stall_seconds=s.ws_stall_seconds,
    )
    rt = EdgeRealtime(hub, rooms_subject(shard_map, settings.shard_id))
    app = Sanic(f"halobuzz-edge-{settings.shard_id}{next(_edge_names) or ''}", configure_logging=False)
    app.config.update({"ACCESS_LOG": False, "MOTD": False, "FALLBACK_ERROR_FORMAT": "json"})
    sanic_ws.configure(app)
    # What endpoint.py reads from the services of an appliance; an edge has only these.
    app.ctx.services = SimpleNamespace(
        settings=settings, accounts=EdgeAccounts(access, settings.shard_id, clock), realtime=rt, hub=hub, clock=clock
    )
    app.blueprint(endpoint.bp)

    @app.get("/healthz")
    async def healthz(request):
        return json_response(
            {"status": "ok", "edge": settings.shard_id, "connected": rt.nc is not None, "connections": len(hub.conns)}
        )

    @app.listener("after_server_start")
    async def start_edge(app):
        hub.start()
        while True:
            try:
                nc = await nats.connect(
                    server_list(settings.nats_url),
                    name=f"halobuzz-edge-{settings.shard_id}",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=3,
                )
                break
            except Exception as exc:  # noqa: BLE001 - NATS not up yet
                log.warning("edge cannot reach NATS yet: %r", exc)
                await asyncio.sleep(1.0)
        await rt.start(nc)
        app.ctx.nc = nc

    @app.listener("before_server_stop")
    async def stop_edge(app):
        await hub.stop()
        await rt.stop()
        nc = getattr(app.ctx, "nc", None)
        if nc is not None:
            await nc.drain()

    return app
