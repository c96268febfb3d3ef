"""Routes: streams lifecycle, live list (trending), media credentials, host controls, chat history."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from ..errors import Invalid
from . import contract, shapes
from .middleware import principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("streams", url_prefix="/api/v1")


class CreateBody(Schema):
    # lifecycle.validate_new's limits (TITLE_MAX, CATEGORY_MAX), so the contract shows them.
    title: Annotated[str, msgspec.Meta(max_length=120, pattern=r"\S")]
    category: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")] | None = None


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    country: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    sort: Literal["trending"] = "trending"
    cursor: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20


class UserBody(Schema):
    user_id: Annotated[str, msgspec.Meta(max_length=64)]


class SanctionBody(Schema):
    user_id: Annotated[str, msgspec.Meta(max_length=64)]
    seconds: Annotated[int, msgspec.Meta(ge=1, le=365 * 86400)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class MuteBody(SanctionBody):
    seconds: Annotated[int, msgspec.Meta(ge=1, le=365 * 86400)]  # a mute always ends


class SettingsBody(Schema):
    slow_mode_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] | None = None
    chat_enabled: bool | None = None


class PinBody(Schema):
    message_id: Annotated[str, msgspec.Meta(max_length=64)] | None


class HistoryQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    before: Annotated[str, msgspec.Meta(max_length=64)] | None = None


def _sv(request: Request):
    return request.app.ctx.services


@bp.post("/streams")
@openapi.summary("Create a stream (status pending)")
@openapi.secured("bearer")
@contract.contract(body=CreateBody, responses={201: shapes.Stream}, errors=(403, 409))
async def create(request: Request):
    who = principal(request)
    body = decode_json(request.body, CreateBody, _sv(request).settings.max_body_bytes)
    return json(await _sv(request).streams.create(who.user_id, body.title, body.category, body.country), status=201)


@bp.get("/streams")
@openapi.summary("Live streams, trending first (filter by country)")
@contract.contract(query=ListQuery, responses={200: shapes.StreamPage}, auth=None)
async def list_live(request: Request):
    q = decode_query(request.args, ListQuery)
    return json(_sv(request).streams.list_live(q.country, q.cursor, q.limit))


@bp.get("/streams/<stream_id:str>")
@openapi.summary("One stream, with live numbers while it is live")
@contract.contract(responses={200: shapes.Stream}, auth=None)
async def get_one(request: Request, stream_id: str):
    return json(_sv(request).streams.view(stream_id))


@bp.post("/streams/<stream_id:str>/start")
@openapi.summary("Go live (host only); returns the host's media credentials")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Stream}, errors=(403, 409))
async def start(request: Request, stream_id: str):
    who = principal(request)
    return json(await _sv(request).streams.start(stream_id, who.user_id))


@bp.post("/streams/<stream_id:str>/end")
@openapi.summary("End the stream (host only); analytics are stored")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def end(request: Request, stream_id: str):
    who = principal(request)
    return json(await _sv(request).streams.end(stream_id, "host", host_id=who.user_id))


@bp.post("/streams/<stream_id:str>/heartbeat")
@openapi.summary("Host heartbeat; a live stream without one for stream_heartbeat_timeout s is ended")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def heartbeat(request: Request, stream_id: str):
    who = principal(request)
    _sv(request).streams.heartbeat(stream_id, who.user_id)
    return json({"ok": True})


@bp.get("/streams/<stream_id:str>/media")
@openapi.summary("Media credentials (Agora RTC token): publisher for the host, subscriber for viewers")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def media_token(request: Request, stream_id: str):
    who = principal(request)
    sv = _sv(request)
    row = sv.streams.row(stream_id)
    sv.chat.check_can_join(who.user_id, row["host_id"])
    return json(sv.streams.credentials(stream_id, who.user_id).as_json())


@bp.get("/streams/<stream_id:str>/messages")
@openapi.summary("Persisted chat of a stream, oldest first")
@contract.contract(query=HistoryQuery, responses={200: shapes.Obj}, auth=None)
async def history(request: Request, stream_id: str):
    q = decode_query(request.args, HistoryQuery)
    items = await _sv(request).chat.history(stream_id, q.limit, q.before)
    return json({"items": items, "cursor": items[0]["id"] if len(items) == q.limit else None})


# -- host controls ---------------------------------------------------------------------


@bp.post("/streams/<stream_id:str>/moderators")
@openapi.summary("Appoint a room moderator (host only)")
@openapi.secured("bearer")
@contract.contract(body=UserBody, responses={200: shapes.Obj}, errors=(403, 409))
async def add_moderator(request: Request, stream_id: str):
    who = principal(request)
    body = decode_json(request.body, UserBody, request.app.ctx.services.settings.max_body_bytes)
    await _sv(request).chat.set_moderator(who.user_id, stream_id, body.user_id, True)
    return json({"ok": True})


@bp.delete("/streams/<stream_id:str>/moderators/<user_id:str>")
@openapi.summary("Remove a room moderator (host only)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403,))
async def remove_moderator(request: Request, stream_id: str, user_id: str):
    who = principal(request)
    await _sv(request).chat.set_moderator(who.user_id, stream_id, user_id, False)
    return json({"ok": True})


async def _sanction(request: Request, stream_id: str, kind: str):
    who = principal(request)
    body = decode_json(
        request.body, MuteBody if kind == "mute" else SanctionBody, request.app.ctx.services.settings.max_body_bytes
    )
    sv = _sv(request)
    if kind == "mute" and body.seconds is None:
        raise Invalid("seconds is required for a mute", field="seconds")
    until = await sv.chat.sanction(who.user_id, stream_id, body.user_id, kind, body.seconds, body.reason)
    action = {"mute": "muted", "ban": "banned", "kick": "kicked"}[kind]
    return json({"ok": True, "userId": body.user_id, "action": action, "until": until})


@bp.post("/streams/<stream_id:str>/mutes")
@openapi.summary("Mute a user in the host's rooms for `seconds` (host or room moderator)")
@openapi.secured("bearer")
@contract.contract(body=MuteBody, responses={200: shapes.Obj}, errors=(403, 409))
async def mute(request: Request, stream_id: str):
    return await _sanction(request, stream_id, "mute")


@bp.delete("/streams/<stream_id:str>/mutes/<user_id:str>")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403,))
async def unmute(request: Request, stream_id: str, user_id: str):
    who = principal(request)
    await _sv(request).chat.lift(who.user_id, stream_id, user_id, "mute")
    return json({"ok": True})


@bp.post("/streams/<stream_id:str>/kicks")
@openapi.summary("Kick a user out of the room (they cannot rejoin for 5 minutes)")
@openapi.secured("bearer")
@contract.contract(body=SanctionBody, responses={200: shapes.Obj}, errors=(403, 409))
async def kick(request: Request, stream_id: str):
    return await _sanction(request, stream_id, "kick")


@bp.post("/streams/<stream_id:str>/bans")
@openapi.summary("Ban a user from the host's rooms (for `seconds`, or until lifted)")
@openapi.secured("bearer")
@contract.contract(body=SanctionBody, responses={200: shapes.Obj}, errors=(403, 409))
async def ban(request: Request, stream_id: str):
    return await _sanction(request, stream_id, "ban")


@bp.delete("/streams/<stream_id:str>/bans/<user_id:str>")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403,))
async def unban(request: Request, stream_id: str, user_id: str):
    who = principal(request)
    await _sv(request).chat.lift(who.user_id, stream_id, user_id, "ban")
    return json({"ok": True})


@bp.patch("/streams/<stream_id:str>/chat")
@openapi.summary("Room chat settings: slow mode seconds, chat on/off (host or room moderator)")
@openapi.secured("bearer")
@contract.contract(body=SettingsBody, responses={200: shapes.Obj}, errors=(403,))
async def chat_settings(request: Request, stream_id: str):
    who = principal(request)
    sv = request.app.ctx.services
    body = decode_json(request.body, SettingsBody, sv.settings.max_body_bytes)
    return json(
        await sv.chat.set_room_settings(
            who.user_id, stream_id, slow_mode_seconds=body.slow_mode_seconds, chat_enabled=body.chat_enabled
        )
    )


@bp.post("/streams/<stream_id:str>/pin")
@openapi.summary("Pin a chat message (or unpin with messageId null)")
@openapi.secured("bearer")
@contract.contract(body=PinBody, responses={200: shapes.Obj}, errors=(403,))
async def pin(request: Request, stream_id: str):
    who = principal(request)
    sv = request.app.ctx.services
    body = decode_json(request.body, PinBody, sv.settings.max_body_bytes)
    return json(await sv.chat.pin(who.user_id, stream_id, body.message_id))


@bp.delete("/streams/<stream_id:str>/messages/<message_id:str>")
@openapi.summary("Delete a chat message for everyone (author, host or room moderator)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403,))
async def delete_message(request: Request, stream_id: str, message_id: str):
    who = principal(request)
    await request.app.ctx.services.chat.delete(who.user_id, stream_id, message_id)
    return json({"ok": True})
