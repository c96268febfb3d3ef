"""Routes: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec.json import encode as json_bytes
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from ..accounts.users import NewUser
from . import contract, shapes
from .middleware import principal
from .validation import Schema, decode_json

bp = Blueprint("accounts", url_prefix="/api/v1")

Email = Annotated[str, msgspec.Meta(max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=200)]


class RegisterBody(Schema):
    # users.validate_new_user's rules, as far as JSON Schema can say them (the contract shows
    # them); it still checks the rest: the email's syntax, a known country, a real date, the age.
    email: Email
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]
    username: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.]{3,32}$")]
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")]
    birth_date: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class LoginBody(Schema):
    email: Email
    password: Password


class RefreshBody(Schema):
    refresh_token: Annotated[str, msgspec.Meta(max_length=200)]


def _sv(request: Request):
    return request.app.ctx.services


@bp.post("/auth/register")
@openapi.summary("Create an account")
@openapi.body({"application/json": {"email": str, "password": str, "username": str, "country": str, "birthDate": str}})
@contract.contract(body=RegisterBody, responses={201: shapes.AuthResult}, errors=(409,), auth=None)
async def register(request: Request):
    sv = _sv(request)
    body = decode_json(request.body, RegisterBody, sv.settings.max_body_bytes)
    result = await sv.accounts.register(
        NewUser(body.email, body.username, body.password, body.country, body.birth_date),
        user_agent=request.headers.get("user-agent"),
        ip=request.ctx.client_ip,
    )
    return json(result, status=201)


@bp.post("/auth/login")
@openapi.summary("Log in with email and password")
@openapi.body({"application/json": {"email": str, "password": str}})
@contract.contract(body=LoginBody, responses={200: shapes.AuthResult}, errors=(401, 403), auth=None)
async def login(request: Request):
    sv = _sv(request)
    body = decode_json(request.body, LoginBody, sv.settings.max_body_bytes)
    return json(
        await sv.accounts.login(
            body.email, body.password, user_agent=request.headers.get("user-agent"), ip=request.ctx.client_ip
        )
    )


@bp.post("/auth/refresh")
@openapi.summary("Exchange a refresh token for a new pair (the old one dies)")
@openapi.body({"application/json": {"refreshToken": str}})
@contract.contract(body=RefreshBody, responses={200: shapes.TokenPair}, errors=(401, 403, 409), auth=None)
async def refresh(request: Request):
    sv = _sv(request)
    body = decode_json(request.body, RefreshBody, sv.settings.max_body_bytes)
    return json(await sv.accounts.refresh(body.refresh_token))


@bp.post("/auth/logout")
@openapi.summary("End this session")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Ok})
async def logout(request: Request):
    who = principal(request)
    await _sv(request).accounts.logout(who)
    return json({"ok": True})


@bp.get("/me")
@openapi.summary("The caller's profile")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Profile})
async def me(request: Request):
    who = principal(request)
    sv = _sv(request)
    today = sv.clock.now().date()
    # The profile is a pure function of rows the inline reader already watches, so its encoded
    # body is cached under the same rule (dropped on any commit): the hottest authed read.
    body = sv.db.inline.memo(("me", who.user_id, today), lambda: json_bytes(sv.accounts.profile(who.user, today)))
    return HTTPResponse(body, content_type="application/json")


@bp.get("/auth/keys")
@openapi.summary("Public keys (JWKS) that verify this shard's access tokens")
@contract.contract(responses={200: shapes.Obj}, auth=None)
async def keys(request: Request):
    return json(_sv(request).accounts.access.public_jwks())
