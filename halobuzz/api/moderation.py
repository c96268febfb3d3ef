"""Routes: reports, the moderators' review queue and actions, appeals, image uploads
(profile pictures, stream thumbnails, periodic frames), image serving, the age selfie.

Uploads take the raw image as the body (Content-Type image/* or application/octet-stream)
or multipart/form-data with a file field named `image` (`selfie` for the age check).
The content type is sniffed from the bytes; the header is not trusted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json, raw
from sanic_ext import openapi

from ..accounts.audit import Actor
from ..errors import Invalid
from ..moderation import chatbans, decisions, reports, restrictions
from . import contract, shapes
from .middleware import principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("moderation", url_prefix="/api/v1")

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]


class ReportBody(Schema):
    type: Literal["user", "stream", "message", "content"]
    target_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    details: Optional[Text2000] = None


class ReviewBody(Schema):
    decision: Literal["confirm", "dismiss"]
    action: Optional[Literal["warn", "blur", "ban", "delete", "none"]] = None
    note: Optional[Text2000] = None
    ban_seconds: Optional[Annotated[int, msgspec.Meta(ge=1, le=3650 * 86400)]] = None
    end_stream: bool = False


class AppealBody(Schema):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]


class DecideBody(Schema):
    outcome: Literal["upheld", "overturned"]
    note: Optional[Text2000] = None


class EndBody(Schema):
    reason: Optional[Text200] = None


class MinorBody(Schema):
    minor: bool
    reason: Optional[Text200] = None


class QueueQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["pending", "reviewed", "resolved", "appealed", "all"] = "pending"
    type: Optional[Literal["user", "stream", "message", "content"]] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Optional[Annotated[str, msgspec.Meta(max_length=100)]] = None


class AppealQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["pending", "upheld", "overturned"] = "pending"
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class DecisionQuery(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["text", "image", "age"] = "text"
    since: Annotated[int, msgspec.Meta(ge=1, le=365 * 86400)] = 86400  # seconds back
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 200


class ImageQuery(msgspec.Struct, forbid_unknown_fields=True):
    original: bool = False


def _mod(request: Request):
    return request.app.ctx.services.moderation


def _moderator(request: Request) -> Actor:
    who = principal(request, "moderator")
    return Actor(name=who.email, source="api", user_id=who.user_id, request_id=request.ctx.request_id)


def _upload(request: Request, field: str) -> bytes:
    ctype = (request.headers.get("content-type") or "").lower()
    if ctype.startswith("multipart/form-data"):
        files = request.files or {}
        f = files.get(field)
        if f is None:
            raise Invalid(f"{field}: a file field named {field!r} is required", field=field)
        return f.body
    if ctype.startswith("application/json"):
        raise Invalid(f"{field}: send the image bytes (image/*) or multipart/form-data, not JSON", field=field)
    return request.body or b""


# -- reports ----------------------------------------------------------------------------------


@bp.post("/reports")
@openapi.summary("Report a user, stream, chat message or image (content)")
@openapi.secured("bearer")
@openapi.body({"application/json": {"type": str, "targetId": str, "reason": str, "details": str}})
@contract.contract(body=ReportBody, responses={201: shapes.Obj}, errors=(409,))
async def create_report(request: Request):
    who = principal(request)
    sv = request.app.ctx.services
    body = decode_json(request.body, ReportBody, sv.settings.max_body_bytes)
    flag = await _mod(request).report(who.user_id, body.type, body.target_id, body.reason, body.details)
    merged = bool(flag.get("merged"))  # the same reporter's open report of this target: 200, not a new one
    return json(
        {
            "id": flag["id"],
            "type": flag["type"],
            "targetId": flag["targetId"],
            "status": flag["status"],
            "createdAt": flag["createdAt"],
            "merged": merged,
        },
        status=200 if merged else 201,
    )


# -- review queue (moderators) ------------------------------------------------------------------


@bp.get("/moderation/queue")
@openapi.summary("Review queue: flags oldest first (moderators)")
@openapi.secured("bearer")
@contract.contract(query=QueueQuery, responses={200: shapes.Obj}, role="moderator")
async def queue(request: Request):
    _moderator(request)
    q = decode_query(request.args, QueueQuery)
    return json(
        await _mod(request).read(
            lambda conn: reports.queue(conn, status=q.status, type=q.type, limit=q.limit, before=q.cursor)
        )
    )


@bp.get("/moderation/flags/<flag_id:str>")
@openapi.summary("One flag with its automated decision and appeal (moderators)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, role="moderator")
async def flag(request: Request, flag_id: str):
    _moderator(request)
    return json(await _mod(request).read(lambda conn: reports.flag_json(conn, reports.get_row(conn, flag_id))))


@bp.post("/moderation/flags/<flag_id:str>/review")
@openapi.summary("Confirm (with an action) or dismiss a flag; audited (moderators)")
@openapi.secured("bearer")
@openapi.body({"application/json": {"decision": str, "action": str, "note": str, "banSeconds": int, "endStream": bool}})
@contract.contract(body=ReviewBody, responses={200: shapes.Obj}, errors=(409,), role="moderator")
async def review(request: Request, flag_id: str):
    actor = _moderator(request)
    body = decode_json(request.body, ReviewBody, request.app.ctx.services.settings.max_body_bytes)
    return json(
        await _mod(request).review(
            flag_id,
            decision=body.decision,
            action=body.action,
            actor=actor,
            note=body.note,
            ban_seconds=body.ban_seconds,
            end_stream=body.end_stream,
        )
    )


@bp.get("/moderation/decisions")
@openapi.summary("Recent automated decisions: model id, score, thresholds, action, reasons (moderators)")
@openapi.secured("bearer")
@contract.contract(query=DecisionQuery, responses={200: shapes.Obj}, role="moderator")
async def recent_decisions(request: Request):
    _moderator(request)
    sv = request.app.ctx.services
    q = decode_query(request.args, DecisionQuery)
    since = sv.clock.now() - timedelta(seconds=q.since)
    rows = await _mod(request).read(lambda conn: decisions.since(conn, q.kind, since, limit=q.limit))
    return json({"items": [decisions.to_json(d) for d in rows]})


@bp.post("/moderation/streams/<stream_id:str>/end")
@openapi.summary("End a live stream (moderators); audited")
@openapi.secured("bearer")
@contract.contract(body=EndBody, body_required=False, responses={200: shapes.Obj}, errors=(409,), role="moderator")
async def end_stream(request: Request, stream_id: str):
    actor = _moderator(request)
    body = decode_json(request.body or b"{}", EndBody, request.app.ctx.services.settings.max_body_bytes)
    ended = await _mod(request).end_stream(stream_id, actor, body.reason or "moderation")
    return json({"streamId": stream_id, "ended": ended})


@bp.post("/moderation/users/<user_id:str>/minor")
@openapi.summary("Record a moderator's under-18 judgement (restricts payments, spend, games, DMs); audited")
@openapi.secured("bearer")
@contract.contract(body=MinorBody, responses={200: shapes.Obj}, role="moderator")
async def judge_minor(request: Request, user_id: str):
    actor = _moderator(request)
    body = decode_json(request.body, MinorBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _mod(request).judge_minor(user_id, body.minor, actor, body.reason))


@bp.get("/moderation/users/<user_id:str>")
@openapi.summary("A user's restrictions, trust score, reputation events and chat bans (moderators)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj}, role="moderator")
async def user_summary(request: Request, user_id: str):
    _moderator(request)
    sv = request.app.ctx.services
    today = sv.clock.now().date()

    def read(conn):
        out = restrictions.summary(conn, user_id, today)
        out.update(reports.reputation(conn, user_id))
        out["chatBans"] = chatbans.history(conn, user_id)
        return out

    return json(await _mod(request).read(read))


@bp.get("/moderation/appeals")
@openapi.summary("Appeals waiting for a decision (moderators)")
@openapi.secured("bearer")
@contract.contract(query=AppealQuery, responses={200: shapes.Obj}, role="moderator")
async def list_appeals(request: Request):
    _moderator(request)
    q = decode_query(request.args, AppealQuery)
    return json({"items": await _mod(request).read(lambda conn: reports.appeals(conn, q.status, q.limit))})


@bp.post("/moderation/appeals/<appeal_id:str>/decide")
@openapi.summary("Uphold or overturn an appeal; overturning reverses the action and the trust change")
@openapi.secured("bearer")
@contract.contract(body=DecideBody, responses={200: shapes.Obj}, errors=(409,), role="moderator")
async def decide_appeal(request: Request, appeal_id: str):
    actor = _moderator(request)
    body = decode_json(request.body, DecideBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _mod(request).decide_appeal(appeal_id, body.outcome, actor, body.note))


# -- the affected user ----------------------------------------------------------------------------


@bp.get("/moderation/mine")
@openapi.summary("Actions taken on my account or content (what I may appeal)")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def my_flags(request: Request):
    who = principal(request)
    return json({"items": await _mod(request).read(lambda conn: reports.my_flags(conn, who.user_id))})


@bp.post("/moderation/flags/<flag_id:str>/appeal")
@openapi.summary("Appeal an action taken on my account or content")
@openapi.secured("bearer")
@contract.contract(body=AppealBody, responses={201: shapes.Obj}, errors=(403, 409))
async def appeal(request: Request, flag_id: str):
    who = principal(request)
    body = decode_json(request.body, AppealBody, request.app.ctx.services.settings.max_body_bytes)
    return json(await _mod(request).appeal(flag_id, who.user_id, body.text), status=201)


@bp.get("/me/restrictions")
@openapi.summary("Whether my account is restricted as under 18, and what that means")
@openapi.secured("bearer")
@contract.contract(responses={200: shapes.Obj})
async def my_restrictions(request: Request):
    who = principal(request)
    sv = request.app.ctx.services
    return json(restrictions.summary(sv.db.inline.conn, who.user_id, sv.clock.now().date()))


# -- images ----------------------------------------------------------------------------------------


@bp.post("/me/avatar", ctx_raw_body=True)
@openapi.summary("Upload a profile picture (NSFW-checked; served blurred above the threshold)")
@openapi.secured("bearer")
@contract.contract(body=contract.upload("image"), responses={201: shapes.Obj}, errors=(409, 415))
async def upload_avatar(request: Request):
    who = principal(request)
    return json(await _mod(request).upload_image(who.user_id, "profile", _upload(request, "image")), status=201)


@bp.get("/users/<user_id:str>/avatar")
@openapi.summary("A user's current profile picture")
@contract.contract(query=ImageQuery, responses={200: contract.IMAGE}, auth=None)
async def get_avatar(request: Request, user_id: str):
    svc = _mod(request)
    return _serve(request, svc.latest_image("profile", owner_id=user_id))


@bp.post("/streams/<stream_id:str>/thumbnail", ctx_raw_body=True)
@openapi.summary("Upload a stream thumbnail (host only)")
@openapi.secured("bearer")
@contract.contract(body=contract.upload("image"), responses={201: shapes.Obj}, errors=(403, 409, 415))
async def upload_thumbnail(request: Request, stream_id: str):
    who = principal(request)
    return json(
        await _mod(request).upload_image(who.user_id, "thumbnail", _upload(request, "image"), stream_id=stream_id),
        status=201,
    )


@bp.get("/streams/<stream_id:str>/thumbnail")
@openapi.summary("A stream's current thumbnail")
@contract.contract(query=ImageQuery, responses={200: contract.IMAGE}, auth=None)
async def get_thumbnail(request: Request, stream_id: str):
    return _serve(request, _mod(request).latest_image("thumbnail", stream_id=stream_id))


@bp.post("/streams/<stream_id:str>/frames", ctx_raw_body=True)
@openapi.summary("A periodic frame from the host app of a live stream (scored; kept only when flagged)")
@openapi.secured("bearer")
@contract.contract(body=contract.upload("image"), responses={201: shapes.Obj, 200: shapes.Obj}, errors=(403, 409, 415))
async def upload_frame(request: Request, stream_id: str):
    who = principal(request)
    return json(await _mod(request).upload_image(who.user_id, "frame", _upload(request, "image"), stream_id=stream_id))


@bp.get("/images/<image_id:str>")
@openapi.summary("An uploaded image (the blurred derivative while blurred; ?original=true for moderators)")
@contract.contract(query=ImageQuery, responses={200: contract.IMAGE}, auth=None)
async def get_image(request: Request, image_id: str):
    return _serve(request, _mod(request).image_row(image_id))


def _serve(request: Request, row):
    q = decode_query(request.args, ImageQuery)
    if q.original:
        principal(request, "moderator")
    data, ctype = _mod(request).image_bytes(row, original=q.original)
    blurred = row["status"] == "blurred" and not q.original
    return raw(
        data,
        content_type=ctype,
        headers={
            "Cache-Control": "private, max-age=60" if not q.original else "no-store",
            "X-Moderation-Status": "blurred" if blurred else "ok",
            "ETag": f'"{row["id"]}-{int(blurred)}"',
        },
    )


# -- age -------------------------------------------------------------------------------------------


@bp.post("/me/age-verification", ctx_raw_body=True)
@openapi.summary("Verification selfie: a review signal for moderators only (never restricts by itself)")
@openapi.secured("bearer")
@contract.contract(body=contract.upload("selfie"), responses={202: shapes.Obj}, errors=(409, 415))
async def age_verification(request: Request):
    who = principal(request)
    return json(await _mod(request).age_check(who.user_id, _upload(request, "selfie")), status=202)
