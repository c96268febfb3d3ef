"""Direct messages. Only the two participants can ever read a conversation (others get 404,
which does not reveal that it exists). A block in either direction stops new messages;
a user whose privacy is 'nobody' receives none.

One conversation per unordered pair: user_a < user_b, so (a, b) is unique; each side has
its own unread counter and last-read time (the read receipt the other side sees).

DMs go through the same text moderation as room chat when a moderator is given (a
``DMModerator``, e.g. halobuzz.moderation.service.Moderation): a user under an automated chat
ban is refused ("muted until ..."); a warn is delivered with the verdict; a block is stored
(status 'blocked', for review and appeal) but never delivered, and raises MessageBlocked.
The message, its decision, the flag and the ban commit in one write unit.
"""

from __future__ import annotations

import base64
import sqlite3
from datetime import datetime
from typing import Any, Protocol

from ..db import emit
from ..errors import DomainError, Forbidden, Invalid, NotFound
from ..events import AI_WARNING, DM_NEW, DM_READ, Event
from ..infra.clock import iso
from ..infra.text import refuse_controls

MAX_TEXT = 1000


class DMModerator(Protocol):
    """What DirectMessages needs from moderation (halobuzz.moderation.service.Moderation has it)."""

    def banned_until(self, user_id: str, now: datetime) -> datetime | None: ...

    def judge_dm(self, user_id: str, text: str) -> Any: ...  # a moderation.policy.Decision

    def record_dm(
        self,
        conn: sqlite3.Connection,
        decision: Any,
        *,
        sender_id: str,
        message_id: str,
        conversation_id: str,
        now: datetime,
    ) -> dict[str, Any]: ...


class Muted(Forbidden):
    code = "muted"

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"you are muted until {iso(until)} (automated chat ban); it covers direct messages too",
            extra={"until": iso(until)},
        )


class MessageBlocked(DomainError):
    status = 422
    code = "message_blocked"


def verdict_json(decision: Any, effects: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {
        "action": decision.action.value,
        "score": round(float(decision.score), 4),
        "modelId": decision.model_id,
        "threshold": decision.threshold,
        "reasons": list(decision.reasons),
    }
    return {**out, **(effects or {})}


def _pair(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x < y else (y, x)


def _side(row: sqlite3.Row, user_id: str) -> str:
    return "a" if row["user_a"] == user_id else "b"


def _cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _uncursor(cursor: str | None, n: int) -> list[str] | None:
    if not cursor:
        return None
    try:
        parts = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        if len(parts) != n:
            raise ValueError
        return parts
    except (ValueError, UnicodeDecodeError):
        raise Invalid("cursor is not valid", field="cursor") from None


# -- write units ---------------------------------------------------------------------------


def send_unit(
    conn: sqlite3.Connection,
    *,
    conv_id: str,
    msg_id: str,
    sender_id: str,
    recipient_id: str,
    text: str,
    now: datetime,
    delivered: bool = True,
) -> str:
    a, b = _pair(sender_id, recipient_id)
    at = iso(now)
    conn.execute(
        "INSERT INTO dm_conversations(id, user_a, user_b, created_at, last_message_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT(user_a, user_b) DO NOTHING",
        (conv_id, a, b, at, at),
    )
    row = conn.execute("SELECT id FROM dm_conversations WHERE user_a = ? AND user_b = ?", (a, b)).fetchone()
    cid = row["id"]
    conn.execute(
        "INSERT INTO dm_messages(id, conversation_id, sender_id, text, created_at, status) VALUES (?,?,?,?,?,?)",
        (msg_id, cid, sender_id, text, at, "delivered" if delivered else "blocked"),
    )
    if not delivered:  # kept for review; the conversation shows nothing new to either side
        return cid
    unread = "b_unread" if recipient_id == b else "a_unread"
    conn.execute(
        f"UPDATE dm_conversations SET last_message_at = ?, last_message_id = ?, {unread} = {unread} + 1 WHERE id = ?",
        (at, msg_id, cid),
    )
    return cid


def read_unit(conn: sqlite3.Connection, conv_id: str, user_id: str, now: datetime) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM dm_conversations WHERE id = ?", (conv_id,)).fetchone()
    if row is None or user_id not in (row["user_a"], row["user_b"]):
        raise NotFound("no such conversation", field="conversationId")
    side = _side(row, user_id)
    conn.execute(
        f"UPDATE dm_conversations SET {side}_unread = 0, {side}_last_read_at = ? WHERE id = ?", (iso(now), conv_id)
    )
    return conn.execute("SELECT * FROM dm_conversations WHERE id = ?", (conv_id,)).fetchone()


class DirectMessages:
    def __init__(self, db, clock, ids, moderator: DMModerator | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.moderator = moderator
        self.trust_gates = None  # halobuzz.trust.gates.Gates, set by the app: first messages need trust

    def _user_by_name(self, username: str):
        row = self.db.inline.one("SELECT id, username, status FROM users WHERE username = ?", (username.strip(),))
        if row is None:
            raise NotFound("no such user", field="to")
        return row

    def _blocked(self, a: str, b: str) -> bool:
        return self.db.inline.one("SELECT 1 FROM user_blocks WHERE user_id = ? AND blocked_id = ?", (a, b)) is not None

    def _privacy(self, user_id: str) -> str:
        row = self.db.inline.one("SELECT privacy FROM dm_settings WHERE user_id = ?", (user_id,))
        return row["privacy"] if row else "everyone"

    def conversation(self, user_id: str, conv_id: str) -> sqlite3.Row:
        row = self.db.inline.one("SELECT * FROM dm_conversations WHERE id = ?", (conv_id,))
        if row is None or user_id not in (row["user_a"], row["user_b"]):
            raise NotFound("no such conversation", field="conversationId")
        return row

    async def send(self, sender_id: str, to_username: str, text: Any, reply_to: str | None = None) -> dict[str, Any]:
        """Deliver a DM; `dm:new` goes to both sides after COMMIT (`reply_to`: the socket frame's id)."""
        if not isinstance(text, str) or not text.strip():
            raise Invalid("text must not be empty", field="text")
        text = refuse_controls(text.strip(), "text", line_breaks=True)
        if len(text) > MAX_TEXT:
            raise Invalid(f"text is longer than {MAX_TEXT} characters", field="text")
        to = self._user_by_name(to_username)
        if to["id"] == sender_id:
            raise Invalid("you cannot message yourself", field="to")
        if self._blocked(sender_id, to["id"]):
            raise Forbidden("you blocked this user; unblock them to send a message", code="you_blocked")
        if self._blocked(to["id"], sender_id) or self._privacy(to["id"]) == "nobody" or to["status"] != "active":
            raise Forbidden("this user does not accept your messages", code="dm_not_allowed")
        # Accounts restricted as under 18 get DMs only from people they wrote to (moderation.restrictions).
        from ..moderation.restrictions import require_dm_allowed

        require_dm_allowed(self.db.inline.conn, sender_id, to["id"], self.clock.now().date())
        if self.trust_gates is not None:
            self.trust_gates.check_dm(self.db.inline.conn, sender_id, to["id"])
        mod = self.moderator
        ready = getattr(mod, "ready", None)
        if ready is not None:
            await ready()  # the scorers may still be loading just after start: wait, never skip
        conv_id, msg_id, now = self.ids.new(), self.ids.new(), self.clock.now()
        decision = None
        if mod is not None:
            until = mod.banned_until(sender_id, now)
            if until is not None:
                raise Muted(until)
            decision = mod.judge_dm(sender_id, text)
        delivered = decision is None or decision.action.value != "block"
        sender = self.db.inline.one("SELECT username FROM users WHERE id = ?", (sender_id,))

        def unit(conn):
            cid = send_unit(
                conn,
                conv_id=conv_id,
                msg_id=msg_id,
                sender_id=sender_id,
                recipient_id=to["id"],
                text=text,
                now=now,
                delivered=delivered,
            )
            effects = (
                None
                if decision is None
                else mod.record_dm(conn, decision, sender_id=sender_id, message_id=msg_id, conversation_id=cid, now=now)
            )
            verdict = None if decision is None else verdict_json(decision, effects)
            out = {"conversationId": cid, "recipientId": to["id"]}
            if verdict is not None and verdict["action"] != "allow":
                out["moderation"] = verdict  # the sender's alone (never sent to the recipient)
            if not delivered:
                return out
            message = {
                "id": msg_id,
                "conversationId": cid,
                "senderId": sender_id,
                "senderName": sender["username"] if sender else None,
                "text": text,
                "ts": iso(now),
            }
            emit(
                conn,
                Event(
                    DM_NEW,
                    {"conversationId": cid, "message": message, "replyTo": reply_to},
                    users=(sender_id, to["id"]),
                ),
            )
            if "moderation" in out:  # a warn: delivered, and the sender is told why
                emit(
                    conn,
                    Event(
                        AI_WARNING,
                        {
                            "kind": "dm",
                            "conversationId": cid,
                            "messageId": msg_id,
                            "blocked": False,
                            "replyTo": reply_to,
                            **out["moderation"],
                        },
                        users=(sender_id,),
                    ),
                )
            return {**out, "message": message}

        out = await self.db.write(unit)
        if not delivered:
            verdict = out["moderation"]
            until = f"; you are muted until {verdict['mutedUntil']}" if verdict.get("mutedUntil") else ""
            raise MessageBlocked(
                f"message not delivered: moderation blocked it{until}",
                field="text",
                extra={"moderation": verdict, "messageId": msg_id},
            )
        return out

    async def mark_read(self, user_id: str, conv_id: str) -> dict[str, Any]:
        now = self.clock.now()

        def unit(conn):
            row = read_unit(conn, conv_id, user_id, now)
            other = row["user_b"] if row["user_a"] == user_id else row["user_a"]
            receipt = {
                "conversationId": conv_id,
                "userId": user_id,
                "otherUserId": other,
                "readAt": iso(now),
                "lastReadMessageId": row["last_message_id"],
            }
            emit(conn, Event(DM_READ, receipt, users=(other, user_id)))
            return receipt

        return await self.db.write(unit)

    async def inbox(self, user_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        after = _uncursor(cursor, 2)
        sql = (
            "SELECT c.*, u.id AS other_id, u.username AS other_name, "
            "CASE WHEN m.status = 'delivered' THEN m.text END AS last_text, "
            "m.sender_id AS last_sender FROM dm_conversations c "
            "JOIN users u ON u.id = CASE WHEN c.user_a = :me THEN c.user_b ELSE c.user_a END "
            "LEFT JOIN dm_messages m ON m.id = c.last_message_id "
            "WHERE (c.user_a = :me OR c.user_b = :me) AND c.last_message_id IS NOT NULL"
        )
        params: dict[str, Any] = {"me": user_id, "limit": limit + 1}
        if after:
            sql += " AND (c.last_message_at < :at OR (c.last_message_at = :at AND c.id < :id))"
            params.update(at=after[0], id=after[1])
        sql += " ORDER BY c.last_message_at DESC, c.id DESC LIMIT :limit"
        rows = await self.db.readers.fetchall(sql, params)
        items = []
        for r in rows[:limit]:
            side = _side(r, user_id)
            other_side = "b" if side == "a" else "a"
            items.append(
                {
                    "conversationId": r["id"],
                    "with": {"id": r["other_id"], "username": r["other_name"]},
                    "unread": r[f"{side}_unread"],
                    "lastMessageAt": r["last_message_at"],
                    "lastMessage": {"id": r["last_message_id"], "senderId": r["last_sender"], "text": r["last_text"]},
                    "otherLastReadAt": r[f"{other_side}_last_read_at"],
                }
            )
        total = self.db.inline.one(
            "SELECT COALESCE(SUM(CASE WHEN user_a = ? THEN a_unread ELSE b_unread END), 0) AS n "
            "FROM dm_conversations WHERE user_a = ? OR user_b = ?",
            (user_id, user_id, user_id),
        )
        nxt = _cursor(rows[limit - 1]["last_message_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
        return {"items": items, "cursor": nxt, "unreadTotal": total["n"]}

    async def messages(self, user_id: str, conv_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        conv = self.conversation(user_id, conv_id)
        before = _uncursor(cursor, 1)
        sql = "SELECT * FROM dm_messages WHERE conversation_id = ? AND status = 'delivered'"
        params: list[Any] = [conv_id]
        if before:
            sql += " AND rowid < (SELECT rowid FROM dm_messages WHERE id = ?)"
            params.append(before[0])
        sql += " ORDER BY rowid DESC LIMIT ?"
        params.append(limit + 1)
        rows = await self.db.readers.fetchall(sql, params)
        page = rows[:limit]
        side = _side(conv, user_id)
        other_side = "b" if side == "a" else "a"
        other_id = conv[f"user_{other_side}"]
        other = self.db.inline.one("SELECT id, username FROM users WHERE id = ?", (other_id,))
        return {
            "conversationId": conv_id,
            "with": {"id": other["id"], "username": other["username"]},
            "unread": conv[f"{side}_unread"],
            "otherLastReadAt": conv[f"{other_side}_last_read_at"],
            "items": [
                {
                    "id": r["id"],
                    "conversationId": conv_id,
                    "senderId": r["sender_id"],
                    "text": r["text"],
                    "ts": r["created_at"],
                }
                for r in reversed(page)
            ],
            "cursor": _cursor(page[-1]["id"]) if len(rows) > limit else None,
        }

    # -- blocks and privacy ----------------------------------------------------------------
    async def block(self, user_id: str, username: str, on: bool) -> dict[str, Any]:
        target = self._user_by_name(username)
        if target["id"] == user_id:
            raise Invalid("you cannot block yourself", field="username")
        now = iso(self.clock.now())
        if on:
            await self.db.write(
                lambda conn: conn.execute(
                    "INSERT OR IGNORE INTO user_blocks(user_id, blocked_id, created_at) VALUES (?,?,?)",
                    (user_id, target["id"], now),
                )
            )
        else:
            await self.db.write(
                lambda conn: conn.execute(
                    "DELETE FROM user_blocks WHERE user_id = ? AND blocked_id = ?", (user_id, target["id"])
                )
            )
        return {"userId": target["id"], "username": target["username"], "blocked": on}

    async def blocks(self, user_id: str) -> list[dict[str, Any]]:
        rows = await self.db.readers.fetchall(
            "SELECT u.id, u.username, b.created_at FROM user_blocks b JOIN users u ON u.id = b.blocked_id "
            "WHERE b.user_id = ? ORDER BY b.created_at DESC",
            (user_id,),
        )
        return [{"userId": r["id"], "username": r["username"], "since": r["created_at"]} for r in rows]

    async def set_privacy(self, user_id: str, privacy: str) -> dict[str, Any]:
        if privacy not in ("everyone", "nobody"):
            raise Invalid("privacy must be everyone or nobody", field="privacy")
        await self.db.write(
            lambda conn: conn.execute(
                "INSERT INTO dm_settings(user_id, privacy) VALUES (?,?) ON CONFLICT(user_id) DO UPDATE SET "
                "privacy = excluded.privacy",
                (user_id, privacy),
            )
        )
        return {"privacy": privacy}

    def privacy(self, user_id: str) -> dict[str, Any]:
        return {"privacy": self._privacy(user_id)}
