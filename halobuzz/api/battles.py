"""Routes: PK battles between two live streams (invite, accept, decline, look up)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from . import contract, shapes
from .middleware import principal
from .validation import Schema, decode_json

bp = Blueprint("battles", url_prefix="/api/v1")


class InviteBody(Schema):
    stream_id: Annotated[str, msgspec.Meta(max_length=64)]
    opponent_stream_id: Annotated[str, msgspec.Meta(max_length=64)]
    duration_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 300


def _b(request: Request):
    return request.app.ctx.services.battles


@bp.post("/battles")
@openapi.summary("Invite another live host to a PK battle")
@openapi.secured("bearer")
@contract.contract(body=InviteBody, responses={201: shapes.Obj}, errors=(403, 409))
async def invite(request: Request):
    who = principal(request)
    body = decode_json(request.body, InviteBody, request.app.ctx.services.settings.max_body_bytes)
    return json(
        await _b(request).invite(who.user_id, body.stream_id, body.opponent_stream_id, body.duration_seconds),
        status=201,
    )


@bp.post("/battles/<battle_id:str>/accept")
@openapi.summary("Accept a battle invitation (the invited host); the battle starts now")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def accept(request: Request, battle_id: str):
    who = principal(request)
    return json(await _b(request).accept(who.user_id, battle_id))


@bp.post("/battles/<battle_id:str>/decline")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def decline(request: Request, battle_id: str):
    who = principal(request)
    return json(await _b(request).decline(who.user_id, battle_id))


@bp.post("/battles/<battle_id:str>/cancel")
@openapi.summary("Withdraw a battle invitation (the inviting host), before it is answered or expires")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def cancel(request: Request, battle_id: str):
    who = principal(request)
    return json(await _b(request).cancel(who.user_id, battle_id))


@bp.get("/battles/<battle_id:str>")
@openapi.summary("A battle: scores, boosts, result")
@contract.contract(responses={200: shapes.Obj}, auth=None)
async def get_one(request: Request, battle_id: str):
    return json(_b(request).get(battle_id))
