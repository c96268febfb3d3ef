"""Routes for coins: wallet, gifts, OG tiers, payouts, and the admin side of them."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from ..gifts import catalog
from ..gifts import send as gift_send
from ..wallet import wallet
from . import contract, shapes
from .admin import actor_of
from .middleware import admin, principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("money", url_prefix="/api/v1")
admin_bp = Blueprint("admin_money", url_prefix="/api/v1/admin")

Count = Annotated[int, msgspec.Meta(ge=1, le=gift_send.MAX_QUANTITY)]
Coins = Annotated[int, msgspec.Meta(ge=1, le=wallet.MAX_SINGLE_SPEND)]
Cursor = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
Sort = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]


class GiftBody(Schema):
    gift_id: Annotated[str, msgspec.Meta(max_length=40)]
    quantity: Count = 1


class SubscribeBody(Schema):
    tier: Annotated[int, msgspec.Meta(ge=1, le=5)]


class LimitBody(Schema):
    daily_spend_limit: Optional[Annotated[int, msgspec.Meta(ge=0, le=wallet.MAX_SINGLE_SPEND)]]


class AdminLimitBody(Schema):
    daily_spend_limit: Optional[Annotated[int, msgspec.Meta(ge=0, le=wallet.MAX_SINGLE_SPEND)]]
    locked: bool = False


class PayoutBody(Schema):
    amount: Coins


class DecisionBody(Schema):
    approve: bool
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class GrantBody(Schema):
    amount: Annotated[int, msgspec.Meta(ge=-wallet.MAX_SINGLE_SPEND, le=wallet.MAX_SINGLE_SPEND)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    bucket: Literal["paid", "bonus"] = "paid"


class GiftAdminBody(Schema):
    id: Annotated[str, msgspec.Meta(max_length=40)]
    name: Annotated[str, msgspec.Meta(max_length=60)]
    price: Annotated[int, msgspec.Meta(ge=1, le=catalog.MAX_PRICE)]
    art: Annotated[str, msgspec.Meta(max_length=200)]
    animation: Literal["basic", "premium", "legendary"] = "basic"
    og_min_level: Annotated[int, msgspec.Meta(ge=0, le=5)] = 0
    active: bool = True
    active_from: Optional[str] = None
    active_until: Optional[str] = None
    sort: Sort = 0


class GiftPatchBody(Schema):
    name: Optional[Annotated[str, msgspec.Meta(max_length=60)]] = None
    price: Optional[Annotated[int, msgspec.Meta(ge=1, le=catalog.MAX_PRICE)]] = None
    art: Optional[Annotated[str, msgspec.Meta(max_length=200)]] = None
    animation: Optional[Literal["basic", "premium", "legendary"]] = None
    og_min_level: Optional[Annotated[int, msgspec.Meta(ge=0, le=5)]] = None
    active: Optional[bool] = None
    active_from: Optional[str] = None
    active_until: Optional[str] = None
    sort: Optional[Sort] = None


class LedgerPageQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[Cursor] = None


class PayoutQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["pending", "approved", "rejected"] = "pending"
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


def _eco(request: Request):
    return request.app.ctx.services.economy


def _reply(reply):
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else None
    return json(reply.body, status=reply.status, headers=headers)


# -- wallet ----------------------------------------------------------------------------


@bp.get("/wallet")
@openapi.summary("The caller's coins: balance, bonusBalance, totalEarned, totalSpent, earnings")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Wallet})
async def get_wallet(request: Request):
    who = principal(request)
    return json(_eco(request).wallet_of(who.user_id))


@bp.get("/wallet/transactions")
@openapi.summary("The caller's ledger lines, newest first")
@openapi.secured("bearer")
@contract.contract(query=LedgerPageQuery, responses={200: shapes.Page})
async def wallet_transactions(request: Request):
    who = principal(request)
    q = decode_query(request.args, LedgerPageQuery)
    return json(await _eco(request).transactions(who.user_id, q.cursor, q.limit))


@bp.put("/wallet/limits")
@openapi.summary("Set your own daily spend cap (parental lock); null removes it")
@openapi.secured("bearer")
@contract.contract(body=LimitBody, responses={200: shapes.Obj}, errors=(403,))
async def set_limit(request: Request):
    who = principal(request)
    body = decode_json(request.body, LimitBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _eco(request).set_daily_limit(who.user_id, body.daily_spend_limit))


@bp.post("/wallet/payouts")
@openapi.summary("Ask for a payout of withdrawable earnings (goes to admin approval)")
@openapi.secured("bearer")
@contract.contract(
    body=PayoutBody, responses={201: shapes.Obj, 200: shapes.Obj}, errors=(409,), idempotency=True, role="host"
)
async def payout(request: Request):
    who = principal(request, "host")
    body = decode_json(request.body, PayoutBody, request.app.ctx.services.settings.max_body_bytes)
    return _reply(await _eco(request).request_payout(who.user_id, body.amount, request.headers.get("idempotency-key")))


# -- gifts -----------------------------------------------------------------------------


@bp.get("/gifts")
@openapi.summary("The gift catalog available now")
@contract.contract(responses={200: shapes.GiftCatalog}, auth=None)
async def list_gifts(request: Request):
    sv = request.app.ctx.services
    return json({"items": catalog.listing(sv.db.inline.conn, sv.clock.now())})


@bp.post("/streams/<stream_id:str>/gifts")
@openapi.summary("Send a gift in a live stream (Idempotency-Key required)")
@openapi.secured("bearer")
@contract.contract(
    body=GiftBody, responses={201: shapes.GiftSent, 200: shapes.GiftSent}, errors=(403, 409), idempotency=True
)
async def send_gift(request: Request, stream_id: str):
    who = principal(request)
    body = decode_json(request.body, GiftBody, request.app.ctx.services.settings.max_body_bytes)
    return _reply(
        await _eco(request).send_gift(
            who.user_id, stream_id, body.gift_id, body.quantity, request.headers.get("idempotency-key")
        )
    )


@bp.get("/streams/<stream_id:str>/leaderboard")
@openapi.summary("Top gifters of a stream (the first holds the Halo Throne)")
@contract.contract(responses={200: shapes.Obj}, auth=None)
async def leaderboard(request: Request, stream_id: str):
    sv = request.app.ctx.services
    return json({"items": gift_send.leaderboard(sv.db.inline.conn, stream_id)})


# -- OG --------------------------------------------------------------------------------


@bp.get("/og/tiers")
@openapi.summary("OG tiers with price, duration and benefits")
@contract.contract(responses={200: shapes.Obj}, auth=None)
async def og_tiers(request: Request):
    return json({"items": _eco(request).og_tier_list()})


@bp.post("/og/subscribe")
@openapi.summary("Buy or renew or upgrade an OG tier with coins (Idempotency-Key required)")
@openapi.secured("bearer")
@contract.contract(
    body=SubscribeBody, responses={201: shapes.Obj, 200: shapes.Obj}, errors=(403, 409), idempotency=True
)
async def og_subscribe(request: Request):
    who = principal(request)
    body = decode_json(request.body, SubscribeBody, request.app.ctx.services.settings.max_body_bytes)
    return _reply(await _eco(request).subscribe_og(who.user_id, body.tier, request.headers.get("idempotency-key")))


# -- admin -----------------------------------------------------------------------------


@admin_bp.get("/users/<user_id:str>/ledger")
@openapi.summary("A user's wallet and ledger lines")
@openapi.secured("bearer")
@contract.contract(query=LedgerPageQuery, responses={200: shapes.Page}, role="admin")
async def user_ledger(request: Request, user_id: str):
    admin(request)
    q = decode_query(request.args, LedgerPageQuery)
    return json(await _eco(request).ledger_of(user_id, q.cursor, q.limit))


@admin_bp.post("/users/<user_id:str>/coins")
@openapi.summary("Grant (amount > 0) or revoke (amount < 0) coins, with a reason")
@openapi.secured("bearer")
@contract.contract(
    body=GrantBody, responses={200: shapes.Obj, 201: shapes.Obj}, errors=(409,), idempotency=True, role="admin"
)
async def grant(request: Request, user_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, GrantBody, request.app.ctx.services.settings.max_body_bytes)
    key = request.headers.get("idempotency-key")
    return json(await _eco(request).adjust(user_id, body.amount, body.bucket, body.reason, actor, key=key))


@admin_bp.put("/users/<user_id:str>/limits")
@openapi.summary("Set (and optionally lock) a user's daily spend cap — a parental lock")
@openapi.secured("bearer")
@contract.contract(body=AdminLimitBody, responses={200: shapes.Obj}, role="admin")
async def admin_limit(request: Request, user_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, AdminLimitBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _eco(request).set_daily_limit(user_id, body.daily_spend_limit, actor, lock=body.locked))


@admin_bp.get("/payouts")
@openapi.summary("Payout requests (default: pending)")
@openapi.secured("bearer")
@contract.contract(query=PayoutQuery, responses={200: shapes.Obj}, role="admin")
async def payouts(request: Request):
    admin(request)
    q = decode_query(request.args, PayoutQuery)
    return json(await _eco(request).payouts(q.status, q.limit))


@admin_bp.post("/payouts/<payout_id:str>")
@openapi.summary("Approve or reject a payout request")
@openapi.secured("bearer")
@contract.contract(body=DecisionBody, responses={200: shapes.Obj}, errors=(409,), role="admin")
async def decide(request: Request, payout_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, DecisionBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _eco(request).decide_payout(payout_id, body.approve, actor, body.note or None))


@admin_bp.get("/gifts")
@openapi.summary("Every gift including inactive ones")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, role="admin")
async def admin_gifts(request: Request):
    admin(request)
    sv = request.app.ctx.services
    return json({"items": catalog.listing(sv.db.inline.conn, sv.clock.now(), include_inactive=True)})


@admin_bp.post("/gifts")
@openapi.summary("Add a gift")
@openapi.secured("bearer")
@contract.contract(body=GiftAdminBody, responses={201: shapes.Obj}, errors=(409,), role="admin")
async def create_gift(request: Request):
    actor = actor_of(request)
    sv = request.app.ctx.services
    b = decode_json(request.body, GiftAdminBody, sv.settings.max_body_bytes)
    spec = catalog.GiftSpec(
        b.id, b.name, b.price, b.art, b.animation, b.og_min_level, b.active, b.active_from, b.active_until, b.sort
    )
    return json(await sv.economy.create_gift(spec, actor), status=201)


@admin_bp.patch("/gifts/<gift_id:str>")
@openapi.summary("Change a gift (price, window, active ...)")
@openapi.secured("bearer")
@contract.contract(body=GiftPatchBody, responses={200: shapes.Obj}, role="admin")
async def patch_gift(request: Request, gift_id: str):
    actor = actor_of(request)
    sv = request.app.ctx.services
    b = decode_json(request.body, GiftPatchBody, sv.settings.max_body_bytes)
    changes = {f: getattr(b, f) for f in b.__struct_fields__ if getattr(b, f) is not None}
    return json(await sv.economy.update_gift(gift_id, changes, actor))


@admin_bp.post("/jobs/<name:str>/run")
@openapi.summary("Run a scheduled job now (they are idempotent, so an extra run is harmless)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, role="admin")
async def run_job(request: Request, name: str):
    actor = actor_of(request)
    sv = request.app.ctx.services
    result = await sv.jobs.run_now(name)
    await sv.accounts.audit(actor, "job.run", target_type="job", target_id=name, after={"result": result})
    return json({"job": name, "result": result})
