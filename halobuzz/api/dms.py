"""Routes: the DM inbox (api.md): POST/GET /api/v1/dms, GET /api/v1/dms/{conversationId}, read receipts,
block list and DM privacy. New messages and receipts also go out over /ws (dm:new, dm:read)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from . import contract, shapes
from .middleware import principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("dms", url_prefix="/api/v1")


class SendBody(Schema):
    to: Annotated[str, msgspec.Meta(max_length=64)]
    # The service's own rules, stated where the contract can show them: 1-1000 characters, not blank.
    text: Annotated[str, msgspec.Meta(max_length=1000, pattern=r"\S")]


class PageQuery(msgspec.Struct, forbid_unknown_fields=True):
    cursor: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 30


class BlockBody(Schema):
    username: Annotated[str, msgspec.Meta(max_length=64)]


class PrivacyBody(Schema):
    privacy: Literal["everyone", "nobody"]


def _dms(request: Request):
    return request.app.ctx.services.dms


@bp.post("/dms")
@openapi.summary("Send a direct message {to: username, text}")
@openapi.secured("bearer")
@contract.contract(body=SendBody, responses={201: shapes.Obj}, errors=(403, 404, 409))
async def send(request: Request):
    who = principal(request)
    body = decode_json(request.body, SendBody, request.app.ctx.services.settings.max_body_bytes)
    result = await _dms(request).send(who.user_id, body.to, body.text)
    out = {"conversationId": result["conversationId"], "message": result["message"]}
    if result.get("moderation"):
        out["moderation"] = result["moderation"]  # a warn: delivered; the verdict is for the sender only
    return json(out, status=201)


@bp.get("/dms")
@openapi.summary("My conversations, newest first, with unread counts")
@openapi.secured("bearer")
@contract.contract(query=PageQuery, responses={200: shapes.Obj})
async def inbox(request: Request):
    who = principal(request)
    q = decode_query(request.args, PageQuery)
    return json(await _dms(request).inbox(who.user_id, q.cursor, q.limit))


@bp.get("/dms/<conversation_id:str>")
@openapi.summary("One conversation's messages (participants only), oldest first; cursor pages back")
@openapi.secured("bearer")
@contract.contract(query=PageQuery, responses={200: shapes.Obj}, errors=(403,))
async def conversation(request: Request, conversation_id: str):
    who = principal(request)
    q = decode_query(request.args, PageQuery)
    return json(await _dms(request).messages(who.user_id, conversation_id, q.cursor, q.limit))


@bp.post("/dms/<conversation_id:str>/read")
@openapi.summary("Mark a conversation read (the other side gets a dm:read receipt)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403,))
async def read(request: Request, conversation_id: str):
    who = principal(request)
    return json(await _dms(request).mark_read(who.user_id, conversation_id))


@bp.get("/blocks")
@openapi.summary("Users I blocked")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def blocks(request: Request):
    who = principal(request)
    return json({"items": await _dms(request).blocks(who.user_id)})


@bp.post("/blocks")
@openapi.summary("Block a user (no DMs either way)")
@openapi.secured("bearer")
@contract.contract(body=BlockBody, responses={200: shapes.Obj}, errors=(404, 409))
async def block(request: Request):
    who = principal(request)
    body = decode_json(request.body, BlockBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _dms(request).block(who.user_id, body.username, True))


@bp.delete("/blocks/<username:str>")
@openapi.summary("Unblock a user")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def unblock(request: Request, username: str):
    who = principal(request)
    return json(await _dms(request).block(who.user_id, username, False))


@bp.get("/privacy/dms")
@openapi.summary("Who may send me DMs")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def get_privacy(request: Request):
    who = principal(request)
    return json(_dms(request).privacy(who.user_id))


@bp.put("/privacy/dms")
@openapi.summary("Set who may send me DMs: everyone or nobody")
@openapi.secured("bearer")
@contract.contract(body=PrivacyBody, responses={200: shapes.Obj})
async def put_privacy(request: Request):
    who = principal(request)
    body = decode_json(request.body, PrivacyBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _dms(request).set_privacy(who.user_id, body.privacy))
