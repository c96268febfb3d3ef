"""Routes: the caller's trust score explained, and admin verification (audited)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from . import contract
from .admin import actor_of
from .festivals import FestivalErrorBody
from .middleware import admin, principal
from .validation import Schema, decode_json

bp = Blueprint("trust", url_prefix="/api/v1")


class ContributionOut(msgspec.Struct):
    kind: str
    points: int
    detail: str


class EventOut(msgspec.Struct):
    delta: int
    reason: str
    at: str


class TrustOut(msgspec.Struct, rename="camel"):
    score: int
    level: Literal["low", "medium", "high", "verified"]
    top_contributions: list[ContributionOut]
    contributions: list[ContributionOut]
    recent_events: list[EventOut]


class AdminTrustOut(TrustOut, rename="camel"):
    user_id: str


class VerifyBody(Schema):
    verified: bool = True
    note: Optional[Annotated[str, msgspec.Meta(max_length=500)]] = None


def service(request: Request):
    return request.app.ctx.services.trust


@bp.get("/me/trust")
@openapi.summary("Your trust score (0-100), level, and what moved it (the scoring rule is in the README)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": TrustOut})
@openapi.response(401, {"application/json": FestivalErrorBody})
@contract.contract(responses={200: TrustOut}, errors=(403, 409))
async def my_trust(request: Request):
    who = principal(request)
    return json(await service(request).explain(who.user_id))


@bp.get("/admin/users/<user_id:str>/trust")
@openapi.summary("A user's trust score explained (admins)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": AdminTrustOut})
@openapi.response(404, {"application/json": FestivalErrorBody})
@contract.contract(responses={200: AdminTrustOut}, errors=(403, 409), role="admin")
async def user_trust(request: Request, user_id: str):
    admin(request)
    return json({"userId": user_id, **await service(request).explain(user_id)})


@bp.post("/admin/users/<user_id:str>/trust/verify")
@openapi.summary("Verify (or, with verified=false, unverify) a user: the only way to the `verified` level")
@openapi.secured("bearer")
@openapi.body({"application/json": VerifyBody})
@openapi.response(200, {"application/json": AdminTrustOut})
@openapi.response(404, {"application/json": FestivalErrorBody})
@contract.contract(body=VerifyBody, responses={200: AdminTrustOut}, errors=(403, 409), role="admin")
async def verify(request: Request, user_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, VerifyBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await service(request).set_verified(user_id, body.verified, actor, body.note))
