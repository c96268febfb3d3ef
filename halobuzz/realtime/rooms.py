"""Live-room glue between the hub (sockets) and the domain services (streams, chat, dms, battles).

* Client frames: stream:join / stream:leave / chat:new / stream:like / stream:heartbeat /
  dm:send / dm:read / ping.
* Bus → sockets: events with `room=` go to that room, with `users=` to those users'
  connections (every tab and device), encoded once.
* Periodic: metrics:update per room, host heartbeat sweep, stale-stream ending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from .. import events as ev
from ..errors import Conflict, Forbidden, Invalid
from ..infra.tasks import cancel_and_wait
from ..streams.checkpoint import INTERVAL_SECONDS as CHECKPOINT_SECONDS
from . import protocol as p
from .hub import Conn, Hub
from .revocation import RevocationWatcher

log = logging.getLogger("halobuzz.realtime")

# Bus events forwarded to clients as they are.
FORWARD = (
    ev.GIFT_SENT,
    ev.THRONE_CLAIMED,
    ev.BATTLE_BOOST,
    ev.AI_WARNING,
    ev.OG_CHANGED,
    ev.METRICS_UPDATE,
    ev.CHAT_NEW,
    ev.BATTLE_INVITE,
    ev.BATTLE_START,
    ev.BATTLE_SCORE,
    ev.BATTLE_END,
    ev.DM_NEW,
    ev.DM_READ,
    ev.CHAT_DELETED,
    ev.CHAT_PINNED,
    ev.ROOM_SETTINGS,
    ev.STREAM_STARTED,
    ev.AI_SUGGESTION,
    *ev.GAME_EVENTS,
    *ev.TOURNAMENT_EVENTS,
)


class Realtime:
    def __init__(
        self,
        settings,
        clock,
        db,
        bus,
        hub: Hub,
        streams,
        chat,
        dms,
        battles,
        *,
        authenticate: Callable[[str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.authenticate = authenticate  # access token -> Principal (re-auth frames)
        self.clock = clock
        self.db = db
        self.hub = hub
        self.streams = streams
        self.chat = chat
        self.dms = dms
        self.battles = battles
        self._tasks: list[asyncio.Task] = []
        self.revocations = RevocationWatcher(db, hub, clock)
        self.demo_hosts: set[str] = set()
        self.engagement = None  # halobuzz.ai.service.Insights: engagementScore in metrics:update
        hub.on_leave.append(self._left)
        for name in FORWARD:
            bus.subscribe(name, self._forward)
        bus.subscribe(ev.GIFT_SENT, self._gift_stats)
        bus.subscribe(ev.THRONE_CLAIMED, self._throne_stats)
        bus.subscribe(ev.CHAT_NEW, self._chat_stats)
        bus.subscribe(ev.ROOM_SANCTION, self._sanctioned)
        bus.subscribe(ev.STREAM_ENDED, self._stream_ended)
        bus.subscribe(ev.FESTIVAL_ACTIVE, self._to_everyone)

    # -- bus → sockets -----------------------------------------------------------------
    def _forward(self, event: ev.Event) -> None:
        if event.room:
            self.hub.to_room(event.room, event.name, event.data)
        if event.users:
            self.hub.to_users(event.users, event.name, event.data)

    def _to_everyone(self, event: ev.Event) -> None:
        """Platform-wide news (a festival starting or ending) goes to every connected user."""
        self.hub.to_users(tuple(self.hub.by_user), event.name, event.data)

    def _gift_stats(self, event: ev.Event) -> None:
        stats = self.streams.live.get(event.room or event.data.get("streamId"))
        if stats is not None:
            d = event.data
            stats.gift(
                str(d.get("giftId")),
                str(d.get("giftName", "")),
                int(d.get("quantity", 1) or 1),
                int(d.get("coins", 0) or 0),
                time.time(),
            )

    def _chat_stats(self, event: ev.Event) -> None:
        stats = self.streams.live.get(event.room)
        if stats is not None:
            stats.chat_count += 1

    def _sanctioned(self, event: ev.Event) -> None:
        """Tell the target; a ban or kick also takes their sockets out of the room (they stay open)."""
        d = event.data
        if d["action"] == "muted":
            self.hub.to_users(event.users, ev.ROOM_SANCTION, d)
            return
        for user_id in event.users:
            self.kick_from_room(d["streamId"], user_id, d["action"], d["until"])

    def _throne_stats(self, event: ev.Event) -> None:
        stats = self.streams.live.get(event.room or event.data.get("streamId"))
        if stats is not None:
            stats.throne = dict(event.data)

    def _stream_ended(self, event: ev.Event) -> None:
        room = event.room
        self.hub.to_room(room, ev.STREAM_ENDED, event.data)
        self.chat.forget_stream(room)
        # Members stay connected (they may join another stream) but leave the room after the final event.
        asyncio.get_event_loop().call_later(0.2, self._empty_room, room)

    def _empty_room(self, room_id: str) -> None:
        for conn in self.hub.members(room_id):
            self.hub.leave(conn)

    # -- presence ----------------------------------------------------------------------
    def _left(self, conn: Conn, room_id: str) -> None:
        stats = self.streams.live.get(room_id)
        if stats is not None and stats.leave(conn.user_id):
            self.hub.to_room(
                room_id, ev.STREAM_LEAVE, {"streamId": room_id, "userId": conn.user_id, "viewers": stats.viewer_count}
            )

    # -- client frames -----------------------------------------------------------------
    async def dispatch(self, conn: Conn, msg: p.ClientFrame) -> None:
        data = msg.data if isinstance(msg.data, dict) else {}
        handler = _HANDLERS.get(msg.event)
        if handler is None:
            conn.error("unknown_event", f"unknown event {msg.event!r}", msg.id)
            return
        await handler(self, conn, data, msg.id)

    async def on_join(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        sid = _str(data, "streamId")
        row = self.streams.row(sid)
        stats = self.streams.live.get(sid)
        if row["status"] != "live" or stats is None:
            if not (row["status"] == "pending" and row["host_id"] == conn.user_id):
                raise Conflict("the stream is not live", code="not_live", field="streamId")
        self.chat.check_can_join(conn.user_id, row["host_id"])
        await self.chat.rebuild_backlog(sid)  # no-op unless the server restarted mid-stream
        if conn.room is not None and conn.room.id == sid:
            self.hub.leave(conn)
        self.hub.join(conn, sid)
        user = self.chat.user(conn.user_id)
        first = stats.join(conn.user_id) if stats else True
        state = self.streams.view(sid)
        pinned = None
        if row["pinned_message_id"]:
            pinned = next((m for m in self.chat.recent(sid) if m["id"] == row["pinned_message_id"]), None) or {
                "id": row["pinned_message_id"]
            }
        conn.send_event(
            ev.STREAM_STATE,
            {
                "replyTo": reply_to,
                "stream": state,
                "recentChat": self.chat.recent(sid),
                "pinned": pinned,
                "battle": self.battles.active_for(sid),
                "you": {
                    "id": conn.user_id,
                    "username": conn.username,
                    "ogLevel": user["og_level"],
                    "canModerate": self.chat.can_moderate(conn.user_id, row["host_id"]),
                },
            },
        )
        if first:
            self.hub.to_room(
                sid,
                ev.STREAM_JOIN,
                {
                    "streamId": sid,
                    "user": {"id": conn.user_id, "username": conn.username, "ogLevel": user["og_level"]},
                    "viewers": stats.viewer_count if stats else 0,
                },
            )
        if row["host_id"] == conn.user_id and stats is not None:
            stats.heartbeat = self.clock.timestamp()

    async def on_leave(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        self.hub.leave(conn)

    async def on_chat(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        sid = data.get("streamId") or (conn.room.id if conn.room else None)
        if not sid or conn.room is None or conn.room.id != sid:
            raise Conflict("join the stream before chatting", code="not_in_room", field="streamId")
        text = data.get("text")
        if not isinstance(text, str):
            raise Invalid("text must be a string", field="text")
        outcome = await self.chat.send(conn.user_id, sid, text)
        v = outcome.verdict
        if v.action != "allow":
            self.hub.to_users(
                (conn.user_id,),
                ev.AI_WARNING,
                {
                    "streamId": sid,
                    "messageId": outcome.message_id,
                    "blocked": v.action == "block",
                    "replyTo": reply_to,
                    **v.as_json(),
                },
            )

    async def on_like(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        if conn.room is None:
            raise Conflict("join the stream first", code="not_in_room")
        stats = self.streams.live.get(conn.room.id)
        if stats is not None:
            stats.like(max(1, min(int(data.get("count", 1) or 1), 10)))

    async def on_heartbeat(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        self.streams.heartbeat(_str(data, "streamId"), conn.user_id)

    async def on_ping(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        conn.send_event(ev.PONG, {"replyTo": reply_to})

    async def on_auth(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        """Re-auth on an open socket: a fresh access token of the same account pushes the
        socket's expiry forward (answered with `ready`); anything else leaves it unchanged."""
        if self.authenticate is None:
            raise Conflict("re-auth is not available", code="unsupported")
        who = self.authenticate(_str(data, "token"))
        if who.user_id != conn.user_id:
            raise Forbidden("the token belongs to another account", code="wrong_account", field="token")
        conn.session_id = who.session_id
        conn.meta["expires"] = who.expires
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

    async def on_dm_send(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        await self.dms.send(conn.user_id, _str(data, "to"), data.get("text"), reply_to)

    async def on_dm_read(self, conn: Conn, data: dict, reply_to: str | None) -> None:
        await self.dms.mark_read(conn.user_id, _str(data, "conversationId"))

    # -- host controls (called from the REST routes) ------------------------------------
    def kick_from_room(self, stream_id: str, user_id: str, code: str, until: str | None) -> None:
        """Remove a user's connections from the room (and tell them why); sockets stay open."""
        for conn in tuple(self.hub.by_user.get(user_id, ())):
            if conn.room is not None and conn.room.id == stream_id:
                conn.send_event(ev.ROOM_SANCTION, {"streamId": stream_id, "action": code, "until": until})
                self.hub.leave(conn)

    # -- periodic ----------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._metrics_loop(), name="room-metrics"),
            asyncio.create_task(self._heartbeat_loop(), name="stream-heartbeats"),
            asyncio.create_task(self._checkpoint_loop(), name="live-state-checkpoint"),
        ]
        self.revocations.start()
        if self.settings.demo:
            from ..demo import demo_hosts

            self.demo_hosts = demo_hosts(self.db.inline.one)

    async def stop(self) -> None:
        await self.revocations.stop()
        await cancel_and_wait(self._tasks)
        try:
            await self.streams.save_live_state()  # the last counters survive a restart
        except Exception:
            log.exception("final live-state checkpoint failed")

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await self.streams.save_live_state()
            except Exception:
                log.exception("live-state checkpoint failed")

    async def _metrics_loop(self) -> None:
        interval = max(0.2, float(self.settings.metrics_interval))
        while True:
            await asyncio.sleep(interval)
            try:
                self.publish_metrics()
            except Exception:
                log.exception("metrics:update failed")

    def publish_metrics(self) -> None:
        now = self.clock.timestamp()
        for room_id in list(self.hub.rooms):
            stats = self.streams.live.get(room_id)
            if stats is None:
                continue
            row = self.db.inline.one("SELECT total_coins FROM streams WHERE id = ?", (room_id,))
            self.hub.to_room(
                room_id,
                ev.METRICS_UPDATE,
                {
                    "streamId": room_id,
                    "viewers": stats.viewer_count,
                    "peakViewers": stats.peak,
                    "uniqueViewers": len(stats.unique),
                    "totalCoins": row["total_coins"] if row else stats.coins,
                    "likes": stats.likes,
                    "chatCount": stats.chat_count,
                    "giftsPerMinute": round(stats.gifts_per_minute(now), 2),
                    "engagementScore": self.engagement.engagement_score(room_id) if self.engagement else None,
                },
            )

    async def _heartbeat_loop(self) -> None:
        timeout = float(self.settings.stream_heartbeat_timeout)
        interval = max(0.2, min(5.0, timeout / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                now = self.clock.timestamp()
                # A host connected to their own room is alive: its pings count as heartbeats.
                for sid, stats in list(self.streams.live.by_id.items()):
                    if stats.host_id in self.demo_hosts:  # serve --demo keeps its demo room open
                        stats.heartbeat = now
                        continue
                    for conn in self.hub.by_user.get(stats.host_id, ()):
                        if (
                            conn.room is not None
                            and conn.room.id == sid
                            and not conn.closed
                            and (conn.ping_fut is None or conn.ping_fut.done())
                        ):
                            stats.heartbeat = now
                            break
                await self.streams.end_stale()
            except Exception:
                log.exception("heartbeat sweep failed")


def _str(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{name} is required", field=name)
    return value.strip()


_HANDLERS = {
    ev.STREAM_JOIN: Realtime.on_join,
    ev.STREAM_LEAVE: Realtime.on_leave,
    ev.CHAT_NEW: Realtime.on_chat,
    "stream:like": Realtime.on_like,
    "stream:heartbeat": Realtime.on_heartbeat,
    "ping": Realtime.on_ping,
    "dm:send": Realtime.on_dm_send,
    "dm:read": Realtime.on_dm_read,
    ev.AUTH: Realtime.on_auth,
}
