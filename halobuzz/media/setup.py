"""Building the video path for the composition root (no Sanic): `build` then `attach`.

media = setup.build(settings, db=db, clock=clock, cipher=cipher)      # None unless media_provider = hls
provider = make_provider(..., hls=setup.provider(media))
streams = Streams(..., provider, ...)
setup.attach(media, streams, moderation)                               # lifecycle + moderation hooks
start: await media.load()      stop: await media.stop()      job: media.expire_replays (hourly)
"""

from __future__ import annotations

import os
from typing import Any

from .engine import EngineError, describe, ffmpeg_binary
from .provider import HlsMedia
from .service import MediaConfig, MediaService

SAMPLER = "job:media-sampler"


def build(settings: Any, *, db, clock, cipher) -> MediaService | None:
    """The media service when media_provider = hls. Raises EngineError when ffmpeg is missing
    or lacks RTMP/HLS/x264 (serve refuses to start rather than hand out ingest URLs that fail)."""
    if settings.media_provider != "hls":
        return None
    config = MediaConfig.from_settings(settings)
    info = describe(ffmpeg_binary(config.ffmpeg))
    if not info.ok:
        raise EngineError(f"{info.path} lacks {', '.join(info.missing)}")
    service = MediaService(db, clock, cipher, config, signing_key=os.urandom(32))
    service._binary = info.path
    return service


def provider(service: MediaService | None) -> HlsMedia | None:
    return HlsMedia(service) if service is not None else None


def attach(service: MediaService | None, streams, moderation=None) -> None:
    """Follow the streams' lifecycle; a publishing ingest is the host's heartbeat; sampled frames
    go through moderation's image pipeline (decision, review flag, blur) and a block ends the stream."""
    if service is None:
        return
    streams.observers.append(service)
    service.keepalive = lambda stream_id: streams.heartbeat(stream_id)
    if moderation is not None:
        from ..accounts.audit import Actor

        async def score_frame(host_id: str, stream_id: str, jpeg: bytes) -> str:
            out = await moderation.upload_image(host_id, "frame", jpeg, stream_id=stream_id)
            return out["moderation"]["action"]

        async def end_stream(stream_id: str, reason: str) -> None:
            try:
                await moderation.end_stream(stream_id, Actor(name=SAMPLER, source="job"), reason)
            except Exception:  # already ended, or streams gone at shutdown
                pass

        service.score_frame = score_frame
        service.end_stream = end_stream
    else:

        async def end_plain(stream_id: str, reason: str) -> None:
            from ..errors import DomainError

            try:
                await streams.end(stream_id, "moderation")
            except DomainError:
                pass

        service.end_stream = end_plain
