"""Routes: the seed's AI features on a live stream — cohost suggestions and invite, gift
suggestions for a viewer, and the host's engagement score and nudges."""

from __future__ import annotations

from typing import Annotated, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from . import contract
from .festivals import FestivalErrorBody
from .middleware import principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("insights", url_prefix="/api/v1/streams")


class CohostOut(msgspec.Struct, rename="camel"):
    stream_id: str
    host_id: str
    host_name: str
    title: str
    country: str
    category: Optional[str]
    language: str
    viewers: int
    score: float
    signals: dict[str, float]
    reasons: list[str]


class CohostList(msgspec.Struct, rename="camel"):
    stream_id: str
    language: Optional[str]
    items: list[CohostOut]
    cooldown_seconds: int
    excluded_after_decline: int


class CohostInviteBody(Schema):
    candidate_stream_id: Annotated[str, msgspec.Meta(max_length=64)]
    duration_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 300


class BattleOut(msgspec.Struct, rename="camel"):
    id: str
    status: str
    kind: str
    streams: list[str]
    hosts: list[str]


class GiftSuggestion(msgspec.Struct, rename="camel"):
    gift_id: str
    name: str
    price: int
    art: str
    score: float
    max_quantity: int
    reasons: list[str]


class GiftSuggestions(msgspec.Struct, rename="camel"):
    stream_id: str
    items: list[GiftSuggestion]
    budget: Optional[int] = None
    remaining_today: Optional[int] = None
    price_band: Optional[float] = None
    reason: Optional[str] = None


class Nudge(msgspec.Struct, rename="camel"):
    stream_id: str
    kind: str
    action: str
    signal: str
    reason: str
    engagement_score: float
    ts: str


class HostInsights(msgspec.Struct, rename="camel"):
    stream_id: str
    engagement_score: Optional[float]
    signals: Optional[dict[str, float]]
    rates: Optional[dict[str, float]]
    viewers: int
    nudges: list[Nudge]


class LimitQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10


def service(request: Request):
    return request.app.ctx.services.insights


@bp.get("/<stream_id:str>/cohosts")
@openapi.summary("Other live hosts to invite as a cohost, ranked, with the reasons (your stream only)")
@openapi.secured("bearer")
@openapi.parameter("limit", int, "query")
@openapi.response(200, {"application/json": CohostList})
@openapi.response(403, {"application/json": FestivalErrorBody})
@openapi.response(409, {"application/json": FestivalErrorBody})
@contract.contract(query=LimitQuery, responses={200: CohostList}, errors=(403, 409))
async def cohost_list(request: Request, stream_id: str):
    who = principal(request)
    q = decode_query(request.args, LimitQuery)
    return json(service(request).cohost_candidates(who.user_id, stream_id, q.limit))


@bp.post("/<stream_id:str>/cohosts/invite")
@openapi.summary("Invite a suggested cohost (a PK battle invitation to their stream)")
@openapi.secured("bearer")
@openapi.body({"application/json": CohostInviteBody})
@openapi.response(201, {"application/json": BattleOut})
@openapi.response(409, {"application/json": FestivalErrorBody})
@contract.contract(body=CohostInviteBody, responses={201: BattleOut}, errors=(403, 409))
async def cohost_invite(request: Request, stream_id: str):
    who = principal(request)
    body = decode_json(request.body, CohostInviteBody, request.app.ctx.services.settings.max_body_bytes)
    return json(
        await service(request).invite_cohost(who.user_id, stream_id, body.candidate_stream_id, body.duration_seconds),
        status=201,
    )


@bp.get("/<stream_id:str>/gift-suggestions")
@openapi.summary("Gifts suggested to you in this stream (never to minors, never past your daily cap)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": GiftSuggestions})
@openapi.response(404, {"application/json": FestivalErrorBody})
@contract.contract(responses={200: GiftSuggestions}, errors=(403, 409))
async def gift_suggestions(request: Request, stream_id: str):
    who = principal(request)
    return json(service(request).gift_suggestions(who.user_id, stream_id))


@bp.get("/<stream_id:str>/insights")
@openapi.summary("Your stream's engagement score, its signals and the nudges you were sent (host only)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": HostInsights})
@openapi.response(403, {"application/json": FestivalErrorBody})
@contract.contract(responses={200: HostInsights}, errors=(403, 409))
async def host_insights(request: Request, stream_id: str):
    who = principal(request)
    return json(service(request).host_view(who.user_id, stream_id))
