"""Admin routes for users and the audit log. Every change is audited in the same transaction."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from ..accounts.audit import Actor
from . import contract, shapes
from .middleware import admin
from .validation import Schema, decode_json, decode_query

bp = Blueprint("admin_users", url_prefix="/api/v1/admin")


class RoleBody(Schema):
    role: Literal["user", "host", "moderator", "admin"]


class BanBody(Schema):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    days: Optional[Annotated[int, msgspec.Meta(ge=1, le=3650)]] = None
    lift: bool = False


class UserQuery(msgspec.Struct, forbid_unknown_fields=True):
    q: Optional[Annotated[str, msgspec.Meta(max_length=100)]] = None
    role: Optional[Literal["user", "host", "moderator", "admin"]] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[Annotated[str, msgspec.Meta(max_length=64)]] = None


class AuditQuery(msgspec.Struct, forbid_unknown_fields=True):
    action: Optional[Annotated[str, msgspec.Meta(max_length=64)]] = None
    target: Optional[Annotated[str, msgspec.Meta(max_length=64)]] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]] = None


def actor_of(request: Request) -> Actor:
    who = admin(request)
    return Actor(name=who.email, source="api", user_id=who.user_id, request_id=request.ctx.request_id)


@bp.get("/users")
@openapi.summary("Search users")
@openapi.secured("bearer")
@contract.contract(query=UserQuery, responses={200: shapes.Obj}, role="admin")
async def list_users(request: Request):
    admin(request)
    q = decode_query(request.args, UserQuery)
    return json(await request.app.ctx.services.accounts.list_users(q.q, q.role, q.cursor, q.limit))


@bp.post("/users/<user_id:str>/role")
@openapi.summary("Change a user's role")
@openapi.secured("bearer")
@contract.contract(body=RoleBody, responses={200: shapes.Obj}, role="admin")
async def set_role(request: Request, user_id: str):
    actor = actor_of(request)
    sv = request.app.ctx.services
    body = decode_json(request.body, RoleBody, sv.settings.max_body_bytes)
    return json(await sv.accounts.set_role(user_id, body.role, actor))


@bp.post("/users/<user_id:str>/ban")
@openapi.summary("Ban, suspend (days) or lift")
@openapi.secured("bearer")
@contract.contract(body=BanBody, responses={200: shapes.Obj}, role="admin")
async def ban(request: Request, user_id: str):
    actor = actor_of(request)
    sv = request.app.ctx.services
    body = decode_json(request.body, BanBody, sv.settings.max_body_bytes)
    return json(
        await sv.accounts.set_status(user_id, actor, lift=body.lift, days=body.days, reason=body.reason or None)
    )


@bp.get("/audit")
@openapi.summary("The admin audit log, newest first")
@openapi.secured("bearer")
@contract.contract(query=AuditQuery, responses={200: shapes.Obj}, role="admin")
async def audit_log(request: Request):
    admin(request)
    q = decode_query(request.args, AuditQuery)
    return json(await request.app.ctx.services.accounts.audit_entries(q.action, q.target, q.cursor, q.limit))
