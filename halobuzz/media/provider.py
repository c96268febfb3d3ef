"""Media provider `hls`: credentials from the built-in video path (see halobuzz.streams.media)."""

from __future__ import annotations

from ..streams.media import PUBLISHER, MediaCredentials
from .service import TOKEN_TTL, MediaService


class HlsMedia:
    name = "hls"

    def __init__(self, service: MediaService) -> None:
        self.service = service

    def credentials(self, channel: str, uid: int, role: str, now: float) -> MediaCredentials:
        extra = {"playbackUrl": self.service.playback_url(channel, now), "format": "hls"}
        if role == PUBLISHER:
            extra.update(self.service.ingest(channel))
        return MediaCredentials("hls", channel, uid, role, None, None, int(now) + TOKEN_TTL, extra)
