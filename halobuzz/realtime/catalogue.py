"""The realtime event catalogue (/ws and /socket.io/) as an AsyncAPI 3.0 document.

Generated from the code that carries the events: server → client names and their lanes from
protocol.LANES, client → server names from the dispatcher's table (rooms._HANDLERS) plus `auth`.
Client payloads are the Structs below (the fields the handlers read; a unit test fails when
the dispatcher gains an event without one). Server payloads are described, not typed: they
are the domain's dicts (the `data` of the envelope on /ws, the event's argument on Socket.IO).
Served at /docs/asyncapi.json.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from .. import __version__
from .. import events as ev
from . import protocol as p
from .rooms import _HANDLERS

REF = "#/components/schemas/{name}"
LANE_NAMES = {
    p.ESSENTIAL: "essential (never dropped)",
    p.CHAT: "chat (shed after presence)",
    p.PRESENCE: "presence (shed first)",
}


class AuthData(msgspec.Struct):
    token: str


class StreamRef(msgspec.Struct):
    streamId: str  # noqa: N815 (wire names)


class LeaveData(msgspec.Struct):
    pass


class ChatData(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1)]
    streamId: str | None = None  # noqa: N815


class LikeData(msgspec.Struct):
    count: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


class PingData(msgspec.Struct):
    pass


class DmSendData(msgspec.Struct):
    to: str
    text: str


class DmReadData(msgspec.Struct):
    conversationId: str  # noqa: N815


CLIENT_EVENTS: dict[str, tuple[Any, str]] = {
    ev.AUTH: (AuthData, "/ws only, first frame when no ?token= (Socket.IO: the connect packet's auth)"),
    ev.STREAM_JOIN: (StreamRef, "join a live stream's room; reply stream:state"),
    ev.STREAM_LEAVE: (LeaveData, "leave the current room"),
    ev.CHAT_NEW: (ChatData, "chat in the joined room (moderated; ai:warning if held back)"),
    "stream:like": (LikeData, "likes, 1-10 at a time"),
    "stream:heartbeat": (StreamRef, "host keeps its stream live"),
    "ping": (PingData, "reply pong"),
    "dm:send": (DmSendData, "direct message to a username; dm:new to both"),
    "dm:read": (DmReadData, "mark a conversation read; dm:read to both"),
}

SERVER_EVENTS: dict[str, str] = {
    ev.READY: "authenticated: {userId, username, connectionId, replyTo}",
    ev.STREAM_STATE: "join reply: {replyTo, stream, recentChat, pinned, battle, you}",
    ev.STREAM_JOIN: "someone joined: {streamId, user, viewers}",
    ev.STREAM_LEAVE: "someone left: {streamId, userId, viewers}",
    ev.CHAT_NEW: "a chat message in the room",
    ev.CHAT_DELETED: "a message removed by the host or a moderator",
    ev.CHAT_PINNED: "a pinned message",
    ev.GIFT_SENT: "a gift (never dropped)",
    ev.THRONE_CLAIMED: "the room's top gifter changed",
    ev.BATTLE_INVITE: "PK battle invitation",
    ev.BATTLE_START: "PK battle started",
    ev.BATTLE_SCORE: "PK battle score",
    ev.BATTLE_BOOST: "PK battle boost",
    ev.BATTLE_END: "PK battle result",
    ev.AI_WARNING: "to the sender: a message held back or flagged by moderation",
    ev.OG_CHANGED: "the user's OG level changed",
    ev.METRICS_UPDATE: "room metrics: viewers, coins, likes, chat count, gifts per minute",
    ev.ROOM_SETTINGS: "slow mode, chat on/off",
    ev.ROOM_SANCTION: "to the target: muted / kicked / banned",
    ev.STREAM_STARTED: "a stream went live",
    ev.STREAM_ENDED: "the stream ended (members leave the room after it)",
    ev.DM_NEW: "a direct message (to sender and recipient)",
    ev.DM_READ: "a read receipt",
    ev.PONG: "ping reply: {replyTo}",
    ev.ERROR: "a refused client frame: {code, message, replyTo}",
    ev.FESTIVAL_ACTIVE: "to every client: a festival started or ended {change, festival, active}",
    ev.AI_SUGGESTION: "to the host only: an engagement nudge (start a battle, a quiz, invite a cohost) with the reason",
    ev.GAME_ROUND: "a game round opened or changed phase, with its seed commitment (sha256 of the server seed)",
    ev.GAME_JOINED: "a player entered a round (or joined a team)",
    ev.GAME_QUESTION: "a timed question opened (quiz, battle)",
    ev.GAME_RESULT: "a round settled: winners, payouts, house share, the revealed seed",
    ev.GAME_DRAW: "a lottery drawn: winning tickets, payouts, the revealed seed",
    ev.GAME_REFUNDED: "a round refunded: every stake back, the revealed seed",
    ev.TOURNAMENT_CREATED: "a tournament opened for registration",
    ev.TOURNAMENT_STARTED: "a bracket drawn: seeds, byes",
    ev.TOURNAMENT_MATCH: "a tournament match is ready: its puzzle and deadline",
    ev.TOURNAMENT_RESULT: "a tournament match decided (answer, wrong answer, no-show, bye)",
    ev.TOURNAMENT_FINISHED: "places and prizes paid, or cancelled and refunded",
}


def missing() -> list[str]:
    """Events the code carries that the catalogue does not describe."""
    out = [f"client {name}" for name in _HANDLERS if name not in CLIENT_EVENTS]
    out += [f"server {name}" for name in p.LANES if name not in SERVER_EVENTS]
    return out


def _key(direction: str, name: str) -> str:
    return f"{direction}_{name.replace(':', '_')}"


def asyncapi_document() -> dict[str, Any]:
    types = [t for t, _ in CLIENT_EVENTS.values()]
    refs, schemas = msgspec.json.schema_components(types, ref_template=REF)
    messages: dict[str, Any] = {}
    for (name, (_, text)), ref in zip(CLIENT_EVENTS.items(), refs):
        messages[_key("client", name)] = {"name": name, "title": name, "summary": text, "payload": ref}
    for name, text in SERVER_EVENTS.items():
        lane = p.LANES.get(name, p.ESSENTIAL)
        messages[_key("server", name)] = {
            "name": name,
            "title": name,
            "summary": text,
            "payload": {"type": "object"},
            "x-lane": LANE_NAMES[lane],
        }
    channel_messages = {k: {"$ref": f"#/components/messages/{k}"} for k in messages}
    channels = {
        "ws": {
            "address": "/ws",
            "title": "/ws (JSON envelopes)",
            "messages": channel_messages,
            "description": "Each frame, both ways, is {event, data, id, ts}; the message payloads "
            "below are `data`. Replies carry data.replyTo = the client frame's id. "
            "Auth: ?token= or a first `auth` frame. Close codes 4001-4006, 1001.",
        },
        "socketio": {
            "address": "/socket.io/",
            "title": "Socket.IO (Engine.IO v4, polling or websocket)",
            "messages": channel_messages,
            "description": "emit(event, data) with the same names and payloads; auth {token} in the "
            "connect packet; an ack receives {event, data} of the frame that would "
            "carry replyTo, or {event: 'ok'} when there is none.",
        },
    }
    operations = {}
    for key, msg in messages.items():
        incoming = key.startswith("client_")
        for channel in ("ws", "socketio"):
            if channel == "socketio" and msg["name"] == ev.AUTH:
                continue
            operations[f"{channel}_{key}"] = {
                "action": "receive" if incoming else "send",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{key}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "HaloBuzz realtime",
            "version": __version__,
            "description": "Live-room events over /ws and Socket.IO: one catalogue, two framings.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


bp = Blueprint("realtime_docs")
_encoded: list[bytes] = []


@bp.get("/docs/asyncapi.json")
async def asyncapi_json(request: Request):
    if not _encoded:
        _encoded.append(msgspec.json.encode(asyncapi_document()))
    return HTTPResponse(_encoded[0], content_type="application/json")
