"""Routes for buying coins: packs, orders, gateway returns, the Stripe webhook, and the admin side."""

from __future__ import annotations

from typing import Annotated, Literal, Optional
from urllib.parse import quote

import msgspec
from sanic import Blueprint, Request
from sanic.response import json, redirect
from sanic_ext import openapi

from ..errors import DomainError, PayloadTooLarge
from . import contract, shapes
from .admin import actor_of
from .middleware import admin, principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("payments", url_prefix="/api/v1/payments")
admin_bp = Blueprint("admin_payments", url_prefix="/api/v1/admin/payments")

Gateway = Literal["esewa", "khalti", "stripe"]
Status = Literal["created", "pending", "completed", "failed", "expired", "refunded", "partially_refunded", "disputed"]


class OrderBody(Schema):
    gateway: Gateway
    pack_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class PackQuery(msgspec.Struct, forbid_unknown_fields=True):
    gateway: Optional[Gateway] = None


class MyOrders(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    cursor: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None


class OrderQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Optional[Status] = None
    gateway: Optional[Gateway] = None
    user: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    review: Optional[bool] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None


class EventQuery(msgspec.Struct, forbid_unknown_fields=True):
    gateway: Optional[Gateway] = None
    verdict: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    order: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[int] = None


class RefundBody(Schema):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    amount: Optional[Annotated[int, msgspec.Meta(ge=1)]] = None


class ReconcileBody(Schema):
    order_id: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None


def _pay(request: Request):
    return request.app.ctx.services.payments


def _reply(reply):
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else None
    return json(reply.body, status=reply.status, headers=headers)


@bp.get("/packs")
@openapi.summary("Coin packs (and OG tier packs) per gateway and currency")
@contract.contract(query=PackQuery, responses={200: shapes.Obj}, auth=None)
async def packs(request: Request):
    q = decode_query(request.args, PackQuery)
    return json({"items": _pay(request).pack_list(q.gateway)})


@bp.post("/orders")
@openapi.summary(
    "Create an order and get how to redirect to the gateway (optional Idempotency-Key: a retry returns the same order)"
)
@openapi.body({"application/json": {"gateway": str, "packId": str}})
@openapi.parameter("Idempotency-Key", str, "header")
@openapi.secured("bearer")
@contract.contract(body=OrderBody, responses={201: shapes.Obj, 200: shapes.Obj}, errors=(409, 503))
async def create_order(request: Request):
    who = principal(request)
    body = decode_json(request.body, OrderBody, request.app.ctx.services.settings.max_body_bytes)
    return _reply(
        await _pay(request).create_order(
            who.user_id, body.gateway, body.pack_id, request.headers.get("idempotency-key")
        )
    )


@bp.get("/orders")
@openapi.summary("The caller's orders, newest first")
@openapi.secured("bearer")
@contract.contract(query=MyOrders, responses={200: shapes.Obj})
async def my_orders(request: Request):
    who = principal(request)
    q = decode_query(request.args, MyOrders)
    return json(await _pay(request).orders_of(who.user_id, q.cursor, q.limit))


@bp.get("/orders/<order_id:str>")
@openapi.summary("One of the caller's orders (poll after returning from the gateway)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def my_order(request: Request, order_id: str):
    who = principal(request)
    return json(await _pay(request).order_of(who.user_id, order_id))


async def _gateway_return(request: Request, handle):
    """A person's browser comes back here from the gateway: after settling, send it to the
    console's wallet page with the outcome. API clients (no text/html in Accept) get JSON."""
    browser = "text/html" in request.headers.get("accept", "")
    try:
        reply = await handle(request.args)
    except DomainError as exc:
        if not browser:
            raise
        return redirect(f"/?payment=failed&reason={quote(exc.code)}", status=303)
    if not browser:
        return _reply(reply)
    order = reply.body.get("order") or {}
    if reply.body.get("reason") == "cancelled":
        return redirect(f"/?payment=cancelled&reason=cancelled&order={quote(str(order.get('id', '')))}", status=303)
    outcome = {"completed": "success", "pending": "pending"}.get(order.get("status"), "failed")
    return redirect(f"/?payment={outcome}&order={quote(str(order.get('id', '')))}", status=303)


@bp.get("/esewa/return")
@openapi.summary("eSewa browser return (success: ?data=<signed base64 JSON>; failure: ?failed=1)")
@contract.contract(responses={200: shapes.Obj, 303: None}, errors=(400, 409), auth=None)
async def esewa_return(request: Request):
    return await _gateway_return(request, _pay(request).esewa_return)


@bp.get("/khalti/return")
@openapi.summary("Khalti browser return (unsigned; confirmed with the lookup API)")
@contract.contract(responses={200: shapes.Obj, 303: None}, errors=(400, 409), auth=None)
async def khalti_return(request: Request):
    return await _gateway_return(request, _pay(request).khalti_return)


@bp.post("/stripe/webhook")
@openapi.summary("Stripe webhook (Stripe-Signature verified over the raw body)")
@contract.contract(
    body=contract.Raw("application/json", {"type": "object"}),
    responses={200: shapes.Obj},
    errors=(400, 401, 409),
    auth=None,
    headers={"Stripe-Signature": "Stripe's signature over the raw body"},
)
async def stripe_webhook(request: Request):
    if len(request.body or b"") > 512 * 1024:
        raise PayloadTooLarge("a Stripe event is never this large")
    return _reply(await _pay(request).stripe_webhook(request.body or b"", request.headers.get("stripe-signature")))


# -- admin ------------------------------------------------------------------------------------


@admin_bp.get("/orders")
@openapi.summary("Payment orders (filter by status, gateway, user, needs-review), newest first")
@openapi.secured("bearer")
@contract.contract(query=OrderQuery, responses={200: shapes.Obj}, role="admin")
async def admin_orders(request: Request):
    admin(request)
    q = decode_query(request.args, OrderQuery)
    return json(
        await _pay(request).orders(
            status=q.status, gateway=q.gateway, user=q.user, review=q.review, cursor=q.cursor, limit=q.limit
        )
    )


@admin_bp.get("/events")
@openapi.summary("The gateway event log (filter by gateway, verdict, order); payloads stay encrypted")
@openapi.secured("bearer")
@contract.contract(query=EventQuery, responses={200: shapes.Obj}, role="admin")
async def admin_events(request: Request):
    admin(request)
    q = decode_query(request.args, EventQuery)
    return json(
        await _pay(request).events(gateway=q.gateway, verdict=q.verdict, order=q.order, cursor=q.cursor, limit=q.limit)
    )


@admin_bp.get("/events/<event_id:int>")
@openapi.summary("One gateway event with its decrypted raw payload (audited)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, role="admin")
async def admin_event(request: Request, event_id: int):
    return json(await _pay(request).event_with_payload(event_id, actor_of(request)))


@admin_bp.post("/orders/<order_id:str>/refund")
@openapi.summary("Record a refund made outside the appliance (claws the coins back; audited)")
@openapi.secured("bearer")
@contract.contract(body=RefundBody, responses={200: shapes.Obj}, errors=(409,), role="admin")
async def admin_refund(request: Request, order_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, RefundBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _pay(request).manual_refund(order_id, body.amount, body.reason, actor))


@admin_bp.post("/reconcile")
@openapi.summary("Run reconciliation now (all due orders, or one)")
@openapi.secured("bearer")
@contract.contract(body=ReconcileBody, body_required=False, responses={200: shapes.Obj}, role="admin")
async def admin_reconcile(request: Request):
    actor = actor_of(request)
    body = decode_json(request.body or b"{}", ReconcileBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _pay(request).reconcile_by(actor, body.order_id))
