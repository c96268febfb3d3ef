"""Routes: festivals (the active ones and their leaderboards) and the admin festival editor."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from ..festivals import calendar, store
from . import contract
from .admin import actor_of
from .middleware import admin
from .validation import Schema, decode_json, decode_query

bp = Blueprint("festivals", url_prefix="/api/v1/festivals")
admin_bp = Blueprint("admin_festivals", url_prefix="/api/v1/admin/festivals")

Bps = Annotated[int, msgspec.Meta(ge=0, le=store.MAX_BONUS_BPS)]
Local = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")]
BsDate = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
GiftIds = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=10)]
Text60 = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
FestivalId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,47}$")]


# -- schemas (request bodies are decoded with them; responses are documented by them) -----------


class Bilingual(msgspec.Struct):
    en: str
    ne: str


class FestivalOut(msgspec.Struct, rename="camel"):
    id: str
    kind: str
    name: Bilingual
    banner: Bilingual
    tz: str
    starts_local: str
    ends_local: str
    starts_at: str
    ends_at: str
    bs_start: Optional[str]
    purchase_bonus_bps: int
    gift_bonus_bps: int
    gift_ids: list[str]
    cancelled: bool
    status: Literal["scheduled", "active", "ended", "cancelled"]


class FestivalList(msgspec.Struct):
    items: list[FestivalOut]


class Ranked(msgspec.Struct, rename="camel"):
    rank: int
    user_id: str
    username: str
    coins: int
    og_level: int


class Leaderboard(msgspec.Struct, rename="camel"):
    festival_id: str
    role: str
    items: list[Ranked]


class FestivalCreateBody(Schema):
    """From a template (`template` + `year`, optional BS dates) or fully custom (`template: custom`)."""

    template: Literal["dashain", "tihar", "holi", "christmas", "new-year", "nepali-new-year", "custom"]
    year: Optional[Annotated[int, msgspec.Meta(ge=1900, le=2200)]] = None
    id: Optional[FestivalId] = None
    bs_start: Optional[BsDate] = None
    bs_end: Optional[BsDate] = None
    name_en: Optional[Text60] = None
    name_ne: Optional[Text60] = None
    banner_en: Optional[Text200] = None
    banner_ne: Optional[Text200] = None
    starts_local: Optional[Local] = None
    ends_local: Optional[Local] = None
    tz: Optional[Annotated[str, msgspec.Meta(max_length=64)]] = None
    purchase_bonus_bps: Optional[Bps] = None
    gift_bonus_bps: Optional[Bps] = None
    gift_ids: Optional[GiftIds] = None


class PatchBody(Schema):
    name_en: Optional[Text60] = None
    name_ne: Optional[Text60] = None
    banner_en: Optional[Text200] = None
    banner_ne: Optional[Text200] = None
    starts_local: Optional[Local] = None
    ends_local: Optional[Local] = None
    tz: Optional[Annotated[str, msgspec.Meta(max_length=64)]] = None
    purchase_bonus_bps: Optional[Bps] = None
    gift_bonus_bps: Optional[Bps] = None
    gift_ids: Optional[GiftIds] = None


class BoardQuery(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["gifter", "host"] = "gifter"
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20


class FestivalListQuery(msgspec.Struct, forbid_unknown_fields=True):
    past: bool = False


class Error(msgspec.Struct):
    code: str
    message: str
    fields: Optional[dict[str, str]] = None


class FestivalErrorBody(msgspec.Struct, rename="camel"):
    error: Error
    request_id: str


def service(request: Request):
    return request.app.ctx.services.festivals


def _db(request: Request):
    return request.app.ctx.services.db


def _max_body(request: Request) -> int:
    return request.app.ctx.services.settings.max_body_bytes


def spec_from(body: FestivalCreateBody) -> store.FestivalSpec:
    fields = {
        k: getattr(body, k)
        for k in (
            "name_en",
            "name_ne",
            "banner_en",
            "banner_ne",
            "starts_local",
            "ends_local",
            "tz",
            "purchase_bonus_bps",
            "gift_bonus_bps",
        )
    }
    gift_ids = tuple(body.gift_ids) if body.gift_ids is not None else None
    if body.template == "custom":
        missing = [
            k
            for k in ("id", "name_en", "name_ne", "banner_en", "banner_ne", "starts_local", "ends_local")
            if getattr(body, k) is None
        ]
        if missing:
            from ..errors import Invalid

            raise Invalid(
                "a custom festival needs these fields", fields={store._camel(k): "is required" for k in missing}
            )
        return store.FestivalSpec(
            id=body.id, kind="custom", gift_ids=gift_ids or (), **{k: v for k, v in fields.items() if v is not None}
        )
    if body.year is None and not body.bs_start:
        from ..errors import Invalid

        raise Invalid("year is required for a template festival", field="year")
    year = body.year if body.year is not None else int(body.bs_start[:4])
    return store.from_template(
        body.template,
        year,
        festival_id=body.id,
        bs_start=body.bs_start,
        bs_end=body.bs_end,
        gift_ids=gift_ids,
        **fields,
    )


# -- public ------------------------------------------------------------------------------


@bp.get("/active")
@openapi.summary("Festivals running now: banner (en + ne), bonus multipliers, themed gifts, window")
@openapi.response(200, {"application/json": FestivalList})
@contract.contract(responses={200: FestivalList}, errors=(409,), auth=None)
async def active(request: Request):
    return json({"items": await service(request).active()})


@bp.get("/")
@openapi.summary("Active and upcoming festivals (past ones with ?past=true)")
@openapi.parameter("past", bool, "query")
@openapi.response(200, {"application/json": FestivalList})
@openapi.response(422, {"application/json": FestivalErrorBody})
@contract.contract(query=FestivalListQuery, responses={200: FestivalList}, errors=(409,), auth=None)
async def listing(request: Request):
    q = decode_query(request.args, FestivalListQuery)
    return json({"items": await service(request).listing(include_past=q.past)})


@bp.get("/<festival_id:str>/leaderboard")
@openapi.summary("A festival's leaderboard: top gifters (role=gifter) or top receiving hosts (role=host)")
@openapi.parameter("role", str, "query")
@openapi.parameter("limit", int, "query")
@openapi.response(200, {"application/json": Leaderboard})
@openapi.response(404, {"application/json": FestivalErrorBody})
@contract.contract(query=BoardQuery, responses={200: Leaderboard}, errors=(409,), auth=None)
async def leaderboard(request: Request, festival_id: str):
    q = decode_query(request.args, BoardQuery)
    conn = _db(request).inline.conn
    store.get(conn, festival_id)
    return json(
        {"festivalId": festival_id, "role": q.role, "items": store.leaderboard(conn, festival_id, q.role, q.limit)}
    )


# -- admin -------------------------------------------------------------------------------


@admin_bp.get("/")
@openapi.summary("Every festival, past ones included (admins)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": FestivalList})
@contract.contract(responses={200: FestivalList}, errors=(403, 409), role="admin")
async def admin_list(request: Request):
    admin(request)
    return json({"items": await service(request).listing(include_past=True), "templates": sorted(calendar.TEMPLATES)})


@admin_bp.post("/")
@openapi.summary("Add a festival from a template (Dashain, Tihar, Holi, Christmas, New Year) or a custom one")
@openapi.secured("bearer")
@openapi.body({"application/json": FestivalCreateBody})
@openapi.response(201, {"application/json": FestivalOut})
@openapi.response(409, {"application/json": FestivalErrorBody})
@openapi.response(422, {"application/json": FestivalErrorBody})
@contract.contract(body=FestivalCreateBody, responses={201: FestivalOut}, errors=(403, 409), role="admin")
async def admin_create(request: Request):
    actor = actor_of(request)
    body = decode_json(request.body, FestivalCreateBody, _max_body(request))
    return json(await service(request).create(spec_from(body), actor), status=201)


@admin_bp.patch("/<festival_id:str>")
@openapi.summary("Change a festival: window (local time in its zone), banners, bonuses, themed gifts")
@openapi.secured("bearer")
@openapi.body({"application/json": PatchBody})
@openapi.response(200, {"application/json": FestivalOut})
@openapi.response(404, {"application/json": FestivalErrorBody})
@openapi.response(422, {"application/json": FestivalErrorBody})
@contract.contract(body=PatchBody, responses={200: FestivalOut}, errors=(403, 409), role="admin")
async def admin_patch(request: Request, festival_id: str):
    actor = actor_of(request)
    body = decode_json(request.body, PatchBody, _max_body(request))
    changes = {
        k: (tuple(v) if k == "gift_ids" else v)
        for k in PatchBody.__struct_fields__
        if (v := getattr(body, k)) is not None
    }
    return json(await service(request).update(festival_id, changes, actor))


@admin_bp.delete("/<festival_id:str>")
@openapi.summary("Cancel a festival (it ends now if running; bonuses already paid stay paid)")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": FestivalOut})
@openapi.response(404, {"application/json": FestivalErrorBody})
@contract.contract(responses={200: FestivalOut}, errors=(403, 409), role="admin")
async def admin_cancel(request: Request, festival_id: str):
    actor = actor_of(request)
    return json(await service(request).cancel(festival_id, actor))
