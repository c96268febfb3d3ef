"""Routes: the built-in video path's HLS files and stream replays.

* `GET /media/live/<stream>/<token>/<file>`: the live playlist (`live.m3u8`) and its segments;
* `GET /media/replay/<stream>/<token>/<file>`: a replay's VOD playlist and segments;
* `GET /api/v1/streams/<stream>/replay`: the replay's state and a playback URL.

The token in the path is signed by the media service (expiry + HMAC) and handed out by
`GET /api/v1/streams/{id}/media` and `…/replay` only to callers allowed in the room; segment
URLs in a playlist are relative, so they carry it too. Playlists change every segment:
`no-cache`; a segment never changes under its name: cached for a day (`immutable`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from ..errors import NotFound
from . import contract, shapes
from .middleware import principal

bp = Blueprint("media", url_prefix="")

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
PLAYLIST_CACHE = "no-cache"
SEGMENT_CACHE = "public, max-age=86400, immutable"
REPLAY_RESPONSE = {
    "application/json": {
        "streamId": str,
        "status": str,
        "durationSeconds": float,
        "bytes": int,
        "playbackUrl": str,
        "expiresAt": str,
    }
}


def media_service(request: Request):
    found = request.app.ctx.services.media
    if found is None:
        raise NotFound("the built-in video path is off (media_provider is not hls)", code="media_off")
    return found


async def _send(request: Request, path: Path) -> HTTPResponse:
    """Whole-file responses: playlists are a few hundred bytes and segments a second or four of
    video (tens of KB to a few MB); ffmpeg renames both into place, so a read never sees half a file."""
    playlist = path.suffix == ".m3u8"
    headers = {"Cache-Control": PLAYLIST_CACHE if playlist else SEGMENT_CACHE}
    body = (
        b""
        if request.method == "HEAD"
        else (path.read_bytes() if playlist else await asyncio.to_thread(path.read_bytes))
    )
    return HTTPResponse(body, headers=headers, content_type=PLAYLIST_TYPE if playlist else SEGMENT_TYPE)


@bp.route("/media/live/<stream_id:str>/<token:str>/<name:str>", methods=["GET", "HEAD"])
@openapi.summary("Live HLS playlist (live.m3u8) or segment of a stream (signed path from …/media)")
@openapi.response(200, {PLAYLIST_TYPE: str, SEGMENT_TYPE: bytes})
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def live_file(request: Request, stream_id: str, token: str, name: str):
    media = media_service(request)
    media.check_token("live", stream_id, token, media.clock.timestamp())
    return await _send(request, media.live_file(stream_id, name))


@bp.route("/media/replay/<stream_id:str>/<token:str>/<name:str>", methods=["GET", "HEAD"])
@openapi.summary("Replay HLS VOD playlist (index.m3u8) or segment (signed path from …/replay)")
@openapi.response(200, {PLAYLIST_TYPE: str, SEGMENT_TYPE: bytes})
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def replay_file(request: Request, stream_id: str, token: str, name: str):
    media = media_service(request)
    media.check_token("replay", stream_id, token, media.clock.timestamp())
    return await _send(request, media.replay_file(stream_id, name))


@bp.get("/api/v1/streams/<stream_id:str>/replay")
@openapi.summary(
    "The stream's replay: status (live, processing, ready, empty, failed, expired, none) "
    "and a signed HLS playback URL when ready"
)
@openapi.secured("bearer")
@openapi.response(200, REPLAY_RESPONSE)
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def stream_replay(request: Request, stream_id: str):
    who = principal(request)
    sv = request.app.ctx.services
    media = media_service(request)
    sv.chat.check_can_join(who.user_id, media.host_of(stream_id))  # room bans apply to replays too
    return json(media.replay_view(stream_id, media.clock.timestamp()))
