"""Media providers: the appliance never carries video, it only mints credentials.

`MediaProvider.credentials(channel, uid, role, now)` returns what a client needs
to join the stream's media channel. Two providers:

* `agora` — Agora RTC AccessToken2 ("007" tokens), written from Agora's
  documented algorithm (AgoraIO/Tools DynamicKey/AgoraDynamicKey, AccessToken2):

      signing   = HMAC-SHA256(key=u32(salt), HMAC-SHA256(key=u32(issue_ts), app_cert))
      info      = str(app_id) u32(issue_ts) u32(expire) u32(salt) u16(n_services)
                  + per service: u16(type) map<u16,u32>(privileges) [+ str(channel) str(uid)]
      token     = "007" + base64(zlib(str(HMAC-SHA256(signing, info)) + info))

  (little-endian ints, strings prefixed with a u16 length; uid 0 is the empty
  string). Tests check byte-for-byte against Agora's published vectors.
  Publishers (the host) get join + publish audio/video/data; subscribers only join.
* `hls` — the built-in video path (halobuzz.media): the host gets an RTMP ingest URL and
  a per-stream secret key, everyone a signed HLS playlist URL.
* `none` — for development and tests without an Agora account: returns the
  channel and uid with no token, so a client can still run its flow.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import zlib
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Protocol

VERSION = "007"
SERVICE_RTC = 1
PRIV_JOIN_CHANNEL = 1
PRIV_PUBLISH_AUDIO = 2
PRIV_PUBLISH_VIDEO = 3
PRIV_PUBLISH_DATA = 4
PUBLISHER = "publisher"
SUBSCRIBER = "subscriber"


def _u16(x: int) -> bytes:
    return struct.pack("<H", int(x))


def _u32(x: int) -> bytes:
    return struct.pack("<I", int(x))


def _str(b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _u16(len(b)) + b


def _is_hex32(s: str) -> bool:
    if len(s) != 32:
        return False
    try:
        bytes.fromhex(s)
    except ValueError:
        return False
    return True


def build_rtc_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    *,
    issue_ts: int,
    expire: int,
    privileges: dict[int, int],
    salt: int,
) -> str:
    """One AccessToken2 with only the RTC service. `expire` and privilege values are
    seconds relative to issue_ts (as Agora's builders use them)."""
    if not _is_hex32(app_id) or not _is_hex32(app_certificate):
        raise ValueError("Agora app id and certificate must be 32 hex characters")
    uid_bytes = b"" if uid in (0, "0", "") else str(uid).encode("utf-8")
    service = (
        _u16(SERVICE_RTC)
        + _u16(len(privileges))
        + b"".join(_u16(k) + _u32(v) for k, v in sorted(privileges.items()))
        + _str(channel)
        + _str(uid_bytes)
    )
    info = _str(app_id) + _u32(issue_ts) + _u32(expire) + _u32(salt) + _u16(1) + service
    signing = hmac.new(_u32(issue_ts), app_certificate.encode("utf-8"), sha256).digest()
    signing = hmac.new(_u32(salt), signing, sha256).digest()
    signature = hmac.new(signing, info, sha256).digest()
    return VERSION + base64.b64encode(zlib.compress(_str(signature) + info)).decode("ascii")


def parse_token(token: str) -> dict[str, Any]:
    """Decode a 007 token (no signature check): for tests and diagnostics."""
    if not token.startswith(VERSION):
        raise ValueError("not an AccessToken2")
    buf = zlib.decompress(base64.b64decode(token[3:]))
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        out = buf[pos : pos + n]
        pos += n
        return out

    def u16() -> int:
        return struct.unpack("<H", take(2))[0]

    def u32() -> int:
        return struct.unpack("<I", take(4))[0]

    def s() -> bytes:
        return take(u16())

    out: dict[str, Any] = {
        "signature": s(),
        "appId": s().decode(),
        "issueTs": u32(),
        "expire": u32(),
        "salt": u32(),
        "services": {},
    }
    for _ in range(u16()):
        stype = u16()
        privs = {}
        for _ in range(u16()):
            k = u16()
            privs[k] = u32()
        svc: dict[str, Any] = {"privileges": privs}
        if stype == SERVICE_RTC:
            svc["channel"] = s().decode()
            svc["uid"] = s().decode()
        out["services"][stype] = svc
    return out


@dataclass(frozen=True)
class MediaCredentials:
    provider: str
    channel: str
    uid: int
    role: str
    token: str | None
    app_id: str | None
    expires_at: int | None  # unix seconds
    extra: dict[str, Any] | None = None  # provider-specific fields (hls: ingestUrl, streamKey, playbackUrl)

    def as_json(self) -> dict[str, Any]:
        out = {
            "provider": self.provider,
            "channel": self.channel,
            "uid": self.uid,
            "role": self.role,
            "token": self.token,
            "appId": self.app_id,
            "expiresAt": self.expires_at,
        }
        if self.extra:
            out.update(self.extra)
        return out


class MediaProvider(Protocol):
    name: str

    def credentials(self, channel: str, uid: int, role: str, now: float) -> MediaCredentials: ...


class NoMedia:
    name = "none"

    def credentials(self, channel: str, uid: int, role: str, now: float) -> MediaCredentials:
        return MediaCredentials("none", channel, uid, role, None, None, None)


class AgoraMedia:
    name = "agora"

    def __init__(self, app_id: str, app_certificate: str, ttl: int = 3600) -> None:
        if not _is_hex32(app_id) or not _is_hex32(app_certificate):
            raise ValueError("agora_app_id and agora_app_certificate must be 32 hex characters")
        self.app_id = app_id
        self.app_certificate = app_certificate
        self.ttl = ttl

    def credentials(self, channel: str, uid: int, role: str, now: float) -> MediaCredentials:
        issue = int(now)
        privs = {PRIV_JOIN_CHANNEL: self.ttl}
        if role == PUBLISHER:
            privs.update({PRIV_PUBLISH_AUDIO: self.ttl, PRIV_PUBLISH_VIDEO: self.ttl, PRIV_PUBLISH_DATA: self.ttl})
        token = build_rtc_token(
            self.app_id,
            self.app_certificate,
            channel,
            uid,
            issue_ts=issue,
            expire=self.ttl,
            privileges=privs,
            salt=secrets.randbelow(99_999_999) + 1,
        )
        return MediaCredentials("agora", channel, uid, role, token, self.app_id, issue + self.ttl)


def media_uid(user_id: str) -> int:
    """A stable 32-bit Agora uid for a user (Agora uids are uint32; 0 means 'any')."""
    return (int.from_bytes(sha256(user_id.encode()).digest()[:4], "big") % 0xFFFFFFFE) + 1


def make_provider(
    name: str, app_id: str = "", app_certificate: str = "", ttl: int = 3600, hls: MediaProvider | None = None
) -> MediaProvider:
    if name == "agora":
        return AgoraMedia(app_id, app_certificate, ttl)
    if name == "none":
        return NoMedia()
    if name == "hls" and hls is not None:
        return hls
    raise ValueError(f"unknown media provider {name!r} (hls, agora or none)")
