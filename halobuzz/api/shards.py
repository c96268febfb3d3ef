"""Routes of a sharded appliance: the shard map, cross-shard gifts, reconciliation; and the
redirects that send a request for another shard's resource to that shard (307)."""

from __future__ import annotations

import json as pyjson
from typing import Annotated

import msgspec
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from ..errors import Conflict, Invalid, NotFound
from ..gifts import send as gift_send
from ..shards.placement import Elsewhere
from . import contract, shapes
from .middleware import admin, principal
from .validation import Schema, decode_json

bp = Blueprint("shards", url_prefix="/api/v1")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=31)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Count = Annotated[int, msgspec.Meta(ge=1, le=gift_send.MAX_QUANTITY)]


class RemoteGiftBody(Schema):
    shard: Name
    stream_id: Id
    gift_id: Annotated[str, msgspec.Meta(max_length=40)]
    quantity: Count = 1


_TRANSFER = {
    "transferId": str,
    "shard": str,
    "status": str,
    "streamId": str,
    "giftId": str,
    "quantity": int,
    "coins": int,
    "paidCoins": int,
    "bonusCoins": int,
    "wallet": {"balance": int, "bonusBalance": int},
}


def _shards(request: Request):
    shards = request.app.ctx.services.shards
    if shards is None:
        raise NotFound("this appliance is not sharded", code="not_sharded")
    return shards


@bp.get("/shards")
@openapi.summary("This shard's name and the signed shard map (which shard serves which country, and where)")
@openapi.response(200, {"application/json": {"shard": str, "map": dict}})
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def shard_map(request: Request):
    shards = _shards(request)
    return json({"shard": shards.shard, "map": shards.map.as_json()})


@bp.get("/shards/trending")
@openapi.summary("Live rooms trending on every shard, highest score first, each with its shard and URL")
@openapi.response(200, {"application/json": {"items": [dict]}})
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def trending(request: Request):
    return json({"items": _shards(request).trending.merged()})


@bp.post("/shards/gifts")
@openapi.summary(
    "Send a gift to a live stream on another shard (Idempotency-Key required). "
    "202: the coins are in transit; settled when the stream's shard confirms, refunded if it refuses"
)
@openapi.body({"application/json": {"shard": str, "streamId": str, "giftId": str, "quantity": int}})
@openapi.response(202, {"application/json": _TRANSFER})
@openapi.secured("bearer")
@contract.contract(body=RemoteGiftBody, responses={202: shapes.Obj}, errors=(403, 409), idempotency=True)
async def send_remote_gift(request: Request):
    shards = _shards(request)
    who = principal(request)
    body = decode_json(request.body, RemoteGiftBody, request.app.ctx.services.settings.max_body_bytes)
    if not shards.map.has(body.shard):
        raise Invalid(f"no shard named {body.shard!r} in the shard map", field="shard")
    status, answer, replayed = await shards.exchange.send_gift(
        who.user_id, body.shard, body.stream_id, body.gift_id, body.quantity, request.headers.get("idempotency-key")
    )
    return json(answer, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@bp.get("/shards/gifts/<transfer_id:str>")
@openapi.summary("Where one of your cross-shard gifts is: pending, cancelling, credited or refused")
@openapi.response(
    200, {"application/json": {"transferId": str, "shard": str, "status": str, "coins": int, "reason": str}}
)
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def remote_gift_status(request: Request, transfer_id: str):
    _shards(request)
    who = principal(request)
    row = await request.app.ctx.services.db.readers.fetchone(
        "SELECT id, dest_shard, status, coins, reason, created_at, settled_at FROM shard_transfers_out "
        "WHERE id = ? AND sender_id = ?",
        (transfer_id, who.user_id),
    )
    if row is None:
        raise NotFound("no such gift of yours", field="transferId")
    return json(
        {
            "transferId": row["id"],
            "shard": row["dest_shard"],
            "status": row["status"],
            "coins": row["coins"],
            "reason": row["reason"],
            "createdAt": row["created_at"],
            "settledAt": row["settled_at"],
        }
    )


@bp.get("/admin/shards/reconcile")
@openapi.summary("Transit accounts vs open cross-shard gifts (equal; zero when none is open), gifts in flight")
@openapi.response(
    200, {"application/json": {"ok": bool, "problems": [str], "peers": dict, "inFlight": [dict], "outboxUnsent": int}}
)
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409), role="admin")
async def reconcile(request: Request):
    admin(request)
    shards = _shards(request)
    return json(await shards.exchange.reconcile())


# -- another shard's resources ---------------------------------------------------------------


def _redirect(where: Elsewhere, request: Request) -> HTTPResponse:
    return json(
        {"error": where.as_error()},
        status=307,
        headers={"Location": where.location(request.path, request.query_string)},
    )


def install(app: Sanic) -> None:
    """Before any route: a request that belongs to another shard is answered 307 (or 4xx) naming it."""

    @app.on_request(priority=90)
    async def other_shards(request: Request):
        services = getattr(request.app.ctx, "services", None)
        shards = getattr(services, "shards", None)
        if shards is None or not request.path.startswith("/api/v1/"):
            return None
        place = shards.placement
        if request.method == "POST" and request.path == "/api/v1/auth/register":
            try:
                country = str(pyjson.loads(request.body or b"{}").get("country") or "")
            except (ValueError, AttributeError):
                return None  # the route names the bad field
            if len(country) == 2:
                where = place.for_registration(country)
                if where is not None and where.shard == shards.shard:  # no shard serves it
                    raise Invalid(where.reason, field="country")
                if where is not None:
                    return _redirect(where, request)
            return None
        header = request.headers.get("authorization", "")
        if header[:7].lower() != "bearer ":
            return None
        try:
            claims = services.accounts.access.verify(header[7:].strip(), services.clock.now().timestamp())
        except Exception:  # noqa: BLE001 - the route answers 401 for a bad token
            return None
        if not place.is_peer_user(claims.issuer):
            return None
        where = place.for_caller(claims.issuer, request.path)
        if where is not None:
            return _redirect(where, request)
        if request.method == "POST" and request.path.endswith("/gifts") and request.path.startswith("/api/v1/streams/"):
            home = shards.map.shard(claims.issuer)
            raise Conflict(
                f"visitors gift from their home shard: POST {home.url}/api/v1/shards/gifts with shard {shards.shard!r}",
                code="wrong_shard",
                extra={"shard": home.name, "url": home.url},
            )
        return None
