"""Chat rules in one place: who may speak, how fast, how long, what moderation says.

`send` checks, in order: the stream is live and chat is on; the sender is not banned or
muted in the host's rooms; the length limit (longer for OG members); per-user and
per-room rate limits; slow mode (host, room moderators and OG members bypass it); then
the moderation call point. Accepted messages are persisted through the single writer
with their `chat:new` event emitted in the same unit; after COMMIT they join the room's
late-join backlog. Host controls (pin, delete, chat settings, sanctions) live here too:
routes and socket handlers only translate.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .. import events as ev
from ..db import emit
from ..errors import ChatRefused, Forbidden, Invalid, NotFound, RateLimited
from ..infra.clock import iso
from ..infra.ratelimit import RateLimiter, Rule, retry_after_seconds
from ..streams import lifecycle
from . import messages, sanctions
from .moderation import AllowAll, ModerationVerdict, safe_check

PLATFORM_MODERATOR_ROLES = ("moderator", "admin")


@dataclass
class ChatOutcome:
    message: dict[str, Any] | None  # delivered to the room (None when blocked)
    verdict: ModerationVerdict
    message_id: str


class ChatService:
    def __init__(
        self,
        db,
        clock,
        ids,
        *,
        rate_user: str,
        rate_room: str,
        max_length: int,
        max_length_og: int,
        backlog: int,
        moderator: Any = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.rule_user = Rule.parse(rate_user)
        self.rule_room = Rule.parse(rate_room)
        self.max_length = max_length
        self.max_length_og = max_length_og
        self.backlog_size = backlog
        # halobuzz.chat.moderation.ChatModerator: check() (+ on_blocked()); set by the composition root.
        self.moderator = moderator
        self.limiter = RateLimiter()
        self.policies: dict[str, sanctions.RoomPolicy] = {}
        self.backlogs: dict[str, deque] = {}
        self.last_sent: dict[tuple[str, str], float] = {}

    # -- lookups -----------------------------------------------------------------------
    def user(self, user_id: str):
        row = self.db.inline.one("SELECT id, username, role, og_level, status FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound("no such user", field="userId")
        return row

    def user_by_name(self, username: str):
        row = self.db.inline.one(
            "SELECT id, username, role, og_level, status FROM users WHERE username = ?", (username.strip(),)
        )
        if row is None:
            raise NotFound("no such user", field="username")
        return row

    def policy(self, host_id: str) -> sanctions.RoomPolicy:
        pol = self.policies.get(host_id)
        if pol is None:
            pol = self.policies[host_id] = sanctions.load(self.db.inline.conn, host_id)
        return pol

    def stream(self, stream_id: str):
        row = self.db.inline.one(
            "SELECT id, host_id, status, chat_enabled, slow_mode_seconds, pinned_message_id FROM streams WHERE id = ?",
            (stream_id,),
        )
        if row is None:
            raise NotFound("no such stream", field="streamId")
        return row

    def recent(self, stream_id: str) -> list[dict[str, Any]]:
        return list(self.backlogs.get(stream_id, ()))

    def can_moderate(self, actor_id: str, host_id: str) -> bool:
        if self.policy(host_id).can_moderate(actor_id):
            return True
        return self.user(actor_id)["role"] in PLATFORM_MODERATOR_ROLES

    def require_moderator(self, actor_id: str, stream_id: str):
        st = self.stream(stream_id)
        if not self.can_moderate(actor_id, st["host_id"]):
            raise Forbidden("only the host or a room moderator can do this", code="not_room_moderator")
        return st

    def check_can_join(self, user_id: str, host_id: str) -> None:
        self._refuse_if_banned(self.policy(host_id), user_id, self.clock.timestamp())

    @staticmethod
    def _refuse_if_banned(pol: sanctions.RoomPolicy, user_id: str, now: float) -> None:
        until = pol.banned(user_id, now)
        if until is False:
            pol.kicks.discard(user_id)
            return
        extra = {"until": iso_ts(until)} if until is not True else {}
        if user_id in pol.kicks and until is not True:
            raise Forbidden(
                f"you were kicked from this host's rooms until {iso_ts(until)}", code="room_kicked", extra=extra
            )
        raise Forbidden(
            "you are banned from this host's rooms" + (f" until {iso_ts(until)}" if extra else ""),
            code="room_banned",
            extra=extra,
        )

    # -- sending -----------------------------------------------------------------------
    async def send(self, user_id: str, stream_id: str, text: str) -> ChatOutcome:
        st = self.stream(stream_id)
        if st["status"] != "live":
            raise ChatRefused("the stream is not live", code="not_live")
        user = self.user(user_id)
        now = self.clock.timestamp()
        pol = self.policy(st["host_id"])
        privileged = pol.can_moderate(user_id) or user["role"] in PLATFORM_MODERATOR_ROLES
        if not st["chat_enabled"] and not privileged:
            raise ChatRefused("chat is turned off in this room", code="chat_off")
        self._refuse_if_banned(pol, user_id, now)
        muted = pol.muted(user_id, now)
        if muted is not False:
            extra = {"until": iso_ts(muted)} if muted is not True else {}
            raise ChatRefused("you are muted in this room", code="muted", extra=extra)
        moderator = self.moderator
        banned_until = getattr(moderator, "banned_until", None)
        until = banned_until(user_id, self.clock.now()) if banned_until is not None else None
        if until is not None:  # a platform-wide automated chat ban (moderation.chatbans)
            raise ChatRefused(
                f"you are muted until {iso(until)} (automated chat ban)",
                code="muted",
                extra={"until": iso(until), "scope": "platform"},
            )
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            raise Invalid("text must not be empty", field="text")
        og = int(user["og_level"] or 0)
        limit = self.max_length_og if og > 0 else self.max_length
        if len(text) > limit:
            raise Invalid(f"text is longer than {limit} characters", field="text")
        mono = time.monotonic()
        wait = self.limiter.hit("chat_room", stream_id, self.rule_room, mono)
        if wait:
            raise RateLimited(
                f"this room is busy; try again in {retry_after_seconds(wait)} s",
                retry_after_seconds(wait),
                in_body=True,
            )
        wait = self.limiter.hit("chat_user", f"{user_id}:{stream_id}", self.rule_user, mono)
        if wait:
            raise RateLimited(
                f"you are sending too fast; try again in {retry_after_seconds(wait)} s",
                retry_after_seconds(wait),
                in_body=True,
            )
        slow = int(st["slow_mode_seconds"] or 0)
        key = (stream_id, user_id)
        if slow and not privileged and og == 0:
            last = self.last_sent.get(key)
            if last is not None and now - last < slow:
                raise RateLimited(
                    f"slow mode: one message every {slow} s",
                    max(1, int(slow - (now - last) + 0.999)),
                    code="slow_mode",
                    in_body=True,
                )
        ready = getattr(moderator, "ready", None)
        if ready is not None:
            await ready()  # just after start the scorers may still be loading: wait, never skip
        mid, when = self.ids.new(), self.clock.now()
        verdict = safe_check(moderator or AllowAll(), user_id, text, subject_id=mid)
        if verdict.action == "block":
            await self.db.write(
                lambda conn: messages.insert(
                    conn, message_id=mid, stream_id=stream_id, user_id=user_id, text=text, now=when, verdict=verdict
                )
            )
            hook = getattr(self.moderator, "on_blocked", None)
            if hook:
                try:
                    hook(user_id, stream_id, verdict)
                except Exception:
                    pass
            return ChatOutcome(None, verdict, mid)
        self.last_sent[key] = now
        if len(self.last_sent) > 100_000:
            self.last_sent.clear()
        msg = messages.to_json(
            mid,
            stream_id,
            {
                "id": user_id,
                "username": user["username"],
                "ogLevel": og,
                "badge": f"og{og}" if og else None,
                "role": "host" if user_id == st["host_id"] else ("moderator" if privileged else "viewer"),
            },
            text,
            iso(when),
            warned=verdict.action == "warn",
        )

        def unit(conn):
            messages.insert(
                conn, message_id=mid, stream_id=stream_id, user_id=user_id, text=text, now=when, verdict=verdict
            )
            emit(conn, ev.Event(ev.CHAT_NEW, msg, room=stream_id))

        await self.db.write(unit, after=lambda _: self._remember(stream_id, msg))
        return ChatOutcome(msg, verdict, mid)

    def _remember(self, stream_id: str, msg: dict[str, Any]) -> None:
        buf = self.backlogs.get(stream_id)
        if buf is None:
            buf = self.backlogs[stream_id] = deque(maxlen=self.backlog_size)
        buf.append(msg)

    async def rebuild_backlog(self, stream_id: str) -> None:
        """After a restart the in-memory late-join buffer is empty: refill it from the stored
        messages (the newest `backlog` visible ones, shaped as they were sent)."""
        if stream_id in self.backlogs:
            return
        st = self.stream(stream_id)
        pol = self.policy(st["host_id"])
        rows = await self.db.readers.fetchall(
            "SELECT m.id, m.user_id, m.text, m.created_at, m.moderation_action, u.username, u.og_level, u.role "
            "FROM chat_messages m JOIN users u ON u.id = m.user_id WHERE m.stream_id = ? AND m.status = 'visible' "
            "ORDER BY m.rowid DESC LIMIT ?",
            (stream_id, self.backlog_size),
        )
        buf: deque = deque(maxlen=self.backlog_size)
        for r in reversed(rows):
            og = int(r["og_level"] or 0)
            role = (
                "host"
                if r["user_id"] == st["host_id"]
                else (
                    "moderator" if pol.can_moderate(r["user_id"]) or r["role"] in PLATFORM_MODERATOR_ROLES else "viewer"
                )
            )
            buf.append(
                messages.to_json(
                    r["id"],
                    stream_id,
                    {
                        "id": r["user_id"],
                        "username": r["username"],
                        "ogLevel": og,
                        "badge": f"og{og}" if og else None,
                        "role": role,
                    },
                    r["text"],
                    r["created_at"],
                    warned=r["moderation_action"] == "warn",
                )
            )
        self.backlogs.setdefault(stream_id, buf)

    def forget_stream(self, stream_id: str) -> None:
        self.backlogs.pop(stream_id, None)

    # -- host controls -----------------------------------------------------------------
    async def delete(self, actor_id: str, stream_id: str, message_id: str) -> None:
        st = self.stream(stream_id)
        row = self.db.inline.one(
            "SELECT user_id FROM chat_messages WHERE id = ? AND stream_id = ?", (message_id, stream_id)
        )
        if row is None:
            raise NotFound("no such message in this stream", field="messageId")
        if row["user_id"] != actor_id and not self.can_moderate(actor_id, st["host_id"]):
            raise Forbidden("only the author, the host or a room moderator can delete this", code="not_room_moderator")

        def unit(conn):
            messages.mark_deleted(conn, message_id, stream_id, actor_id)
            if st["pinned_message_id"] == message_id:
                lifecycle.set_controls(conn, stream_id, pinned_message_id=None)
            emit(
                conn,
                ev.Event(
                    ev.CHAT_DELETED, {"streamId": stream_id, "messageId": message_id, "by": actor_id}, room=stream_id
                ),
            )

        await self.db.write(unit, after=lambda _: self.forget_message(stream_id, message_id))

    def forget_message(self, stream_id: str, message_id: str) -> None:
        """Drop a deleted message from the late-join backlog."""
        buf = self.backlogs.get(stream_id)
        if buf:
            for m in list(buf):
                if m["id"] == message_id:
                    buf.remove(m)

    async def pin(self, actor_id: str, stream_id: str, message_id: str | None) -> dict[str, Any]:
        """Pin a visible message of this room (None unpins); host or room moderator."""
        self.require_moderator(actor_id, stream_id)
        message = None
        if message_id:
            row = self.db.inline.one(
                "SELECT m.*, u.username, u.og_level FROM chat_messages m JOIN users u ON u.id = m.user_id "
                "WHERE m.id = ? AND m.stream_id = ? AND m.status = 'visible'",
                (message_id, stream_id),
            )
            if row is None:
                raise NotFound("no such message in this stream", field="messageId")
            message = messages.row_json(row)
        data = {"streamId": stream_id, "message": message}

        def unit(conn):
            lifecycle.set_controls(conn, stream_id, pinned_message_id=message_id)
            emit(conn, ev.Event(ev.CHAT_PINNED, data, room=stream_id))

        await self.db.write(unit)
        return data

    async def set_room_settings(
        self, actor_id: str, stream_id: str, *, slow_mode_seconds: int | None, chat_enabled: bool | None
    ) -> dict[str, Any]:
        """Slow mode and chat on/off; host or room moderator."""
        self.require_moderator(actor_id, stream_id)

        def unit(conn):
            row = lifecycle.set_controls(
                conn, stream_id, slow_mode_seconds=slow_mode_seconds, chat_enabled=chat_enabled
            )
            data = {
                "streamId": stream_id,
                "slowModeSeconds": row["slow_mode_seconds"],
                "chatEnabled": bool(row["chat_enabled"]),
            }
            emit(conn, ev.Event(ev.ROOM_SETTINGS, data, room=stream_id))
            return data

        return await self.db.write(unit)

    async def set_moderator(self, actor_id: str, stream_id: str, user_id: str, on: bool) -> None:
        st = self.stream(stream_id)
        if actor_id != st["host_id"]:
            raise Forbidden("only the host appoints room moderators", code="not_host")
        if user_id == st["host_id"]:
            raise Invalid("the host is always a moderator", field="userId")
        self.user(user_id)
        now = self.clock.now()
        # The in-memory policy follows the committed row even if the caller left meanwhile.
        mods = self.policy(st["host_id"]).moderators
        if on:
            await self.db.write(
                lambda conn: sanctions.add_moderator(conn, st["host_id"], user_id, now),
                after=lambda _: mods.add(user_id),
            )
        else:
            await self.db.write(
                lambda conn: sanctions.remove_moderator(conn, st["host_id"], user_id),
                after=lambda _: mods.discard(user_id),
            )

    async def sanction(
        self, actor_id: str, stream_id: str, user_id: str, kind: str, seconds: int | None, reason: str | None
    ) -> str | None:
        """kind: mute | ban | kick (a kick is a ban for KICK_SECONDS). Returns the end time (ISO) or None."""
        st = self.require_moderator(actor_id, stream_id)
        host_id = st["host_id"]
        target = self.user(user_id)
        pol = self.policy(host_id)
        if user_id == host_id:
            raise Forbidden("the host cannot be sanctioned in their own room", code="target_is_host")
        if user_id in pol.moderators and actor_id != host_id:
            raise Forbidden("only the host can sanction a room moderator", code="target_is_moderator")
        if target["role"] in PLATFORM_MODERATOR_ROLES and user_id != actor_id:
            raise Forbidden("platform moderators cannot be sanctioned in rooms", code="target_is_staff")
        action = {"mute": "muted", "ban": "banned", "kick": "kicked"}[kind]
        kicked = kind == "kick"
        if kicked:
            kind, seconds = "ban", sanctions.KICK_SECONDS
        if seconds is not None and seconds <= 0:
            raise Invalid("seconds must be positive", field="seconds")
        now = self.clock.now()
        table = pol.mutes if kind == "mute" else pol.bans

        def remember(_):
            table[user_id] = (now.timestamp() + seconds) if seconds else None
            if kind == "ban":
                (pol.kicks.add if kicked else pol.kicks.discard)(user_id)

        def unit(conn):
            until = sanctions.sanction(conn, host_id, user_id, kind, seconds, actor_id, reason, now)
            # realtime tells the target and, for a ban or kick, takes their sockets out of the room
            emit(
                conn,
                ev.Event(ev.ROOM_SANCTION, {"streamId": stream_id, "action": action, "until": until}, users=(user_id,)),
            )
            return until

        return await self.db.write(unit, after=remember)

    async def lift(self, actor_id: str, stream_id: str, user_id: str, kind: str) -> None:
        st = self.require_moderator(actor_id, stream_id)
        pol = self.policy(st["host_id"])
        table = pol.mutes if kind == "mute" else pol.bans
        await self.db.write(
            lambda conn: sanctions.lift(conn, st["host_id"], user_id, kind), after=lambda _: table.pop(user_id, None)
        )

    async def history(self, stream_id: str, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        self.stream(stream_id)
        sql = (
            "SELECT m.*, u.username, u.og_level FROM chat_messages m JOIN users u ON u.id = m.user_id "
            "WHERE m.stream_id = ? AND m.status = 'visible'"
        )
        params: list[Any] = [stream_id]
        if before:
            sql += " AND m.rowid < (SELECT rowid FROM chat_messages WHERE id = ?)"
            params.append(before)
        sql += " ORDER BY m.rowid DESC LIMIT ?"
        params.append(limit)
        rows = await self.db.readers.fetchall(sql, params)
        return [messages.row_json(r) for r in reversed(rows)]


def iso_ts(ts: float) -> str:
    from datetime import datetime, timezone

    return iso(datetime.fromtimestamp(ts, timezone.utc))
