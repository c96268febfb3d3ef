"""The built-in video path as the rest of the app sees it.

`MediaService` follows the stream lifecycle: when a stream goes live it gets an ingest (a
secret key, kept encrypted, and an RTMP port) and an ffmpeg child listening for it; when the
stream ends the child stops and the recorded segments become a replay. It also answers the
media provider `hls` (what a host and a viewer need), signs viewer URLs, resolves the files
the HTTP layer serves, samples frames for the NSFW scorer, and expires old replays.

No Sanic here: the HTTP layer calls `live_file`/`replay_file` and `replay_view`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import re
import secrets
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any, Awaitable, Callable

from ..errors import Conflict, Forbidden, NotFound
from ..infra.clock import iso, parse_iso
from ..infra.tasks import cancel_and_wait
from . import engine, replay
from .ingest import IngestChild, IngestSpec

log = logging.getLogger("halobuzz.media")

LIVE_PLAYLIST = "live.m3u8"
_SEGMENT_NAME = re.compile(r"^r(\d+)-\d+\.ts$")
_REPLAY_NAME = re.compile(r"^(index\.m3u8|seg-\d+\.ts)$")
TICK = 5.0  # seconds between keepalive/sampling passes
TOKEN_TTL = 6 * 3600  # a viewer's playback URL works this long (the console asks again after)


@dataclass(frozen=True)
class MediaConfig:
    root: Path  # <data>/video: one directory per stream
    bind: str = "127.0.0.1"  # address the RTMP children listen on
    public_host: str = "127.0.0.1"  # host name put into ingest URLs
    port_base: int = 1935
    max_ingests: int = 16  # ports port_base .. port_base + max_ingests - 1
    segment_seconds: float = 1.0
    live_segments: int = 6
    replay_days: int = 30  # 0: no recordings (segments deleted as they leave the window)
    transcode: bool = False
    sample_seconds: float = 0.0  # NSFW frame sampling interval; 0 = off
    ffmpeg: str = ""

    @classmethod
    def from_settings(cls, s: Any) -> "MediaConfig":
        from urllib.parse import urlparse

        public = s.media_rtmp_public_host or urlparse(s.public_url or "").hostname or ""
        bind = s.media_rtmp_bind or s.host
        if not public:
            public = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
        return cls(
            root=s.data_dir / "video",
            bind=bind,
            public_host=public,
            port_base=int(s.media_rtmp_port),
            max_ingests=int(s.media_max_ingests),
            segment_seconds=float(s.media_segment_seconds),
            replay_days=int(s.media_replay_days),
            transcode=bool(s.media_transcode),
            sample_seconds=float(s.media_sample_seconds),
            ffmpeg=s.media_ffmpeg,
        )


class MediaService:
    def __init__(
        self,
        db,
        clock,
        cipher,
        config: MediaConfig,
        *,
        signing_key: bytes,
        score_frame: Callable[[str, str, bytes], Awaitable[str]] | None = None,
        end_stream: Callable[[str, str], Awaitable[Any]] | None = None,
        keepalive: Callable[[str], Any] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.cipher = cipher
        self.config = config
        self.signing_key = signing_key
        self.score_frame = score_frame  # (host_id, stream_id, jpeg) -> "allow" | "warn" | "block"
        self.end_stream = end_stream  # (stream_id, reason)
        self.keepalive = keepalive  # (stream_id): a publishing ingest counts as the host's heartbeat
        self.children: dict[str, IngestChild] = {}
        self._keys: dict[str, tuple[str, int]] = {}  # stream id -> (key, port), for credentials()
        self._tasks: set[asyncio.Task] = set()
        self._sampler: asyncio.Task | None = None
        self._binary = ""

    # -- engine ----------------------------------------------------------------------------
    @property
    def binary(self) -> str:
        if not self._binary:
            self._binary = engine.ffmpeg_binary(self.config.ffmpeg)
        return self._binary

    def stream_dir(self, stream_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", stream_id):
            raise NotFound("no such stream", field="streamId")
        return self.config.root / stream_id

    # -- lifecycle ---------------------------------------------------------------------------
    async def load(self) -> None:
        """At start: every live stream that has an ingest gets its child back (same key and port)."""
        _ = self.binary  # fail early and loudly when there is no engine
        rows = await self.db.readers.fetchall(
            "SELECT m.stream_id, m.key_enc, m.port FROM media_ingests m JOIN streams s ON s.id = m.stream_id "
            "WHERE s.status = 'live'"
        )
        for row in rows:
            key = self.cipher.decrypt_text(row["key_enc"], row["stream_id"])
            self._spawn(row["stream_id"], key, row["port"])
        self._sampler = asyncio.create_task(self._tick_loop(), name="media-ticks")

    async def stop(self) -> None:
        """Shutdown: children stop (ffmpeg closes its playlists); streams stay live for the next start."""
        await cancel_and_wait([t for t in (self._sampler,) if t])
        await asyncio.gather(*(c.stop() for c in self.children.values()), return_exceptions=True)
        self.children.clear()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=30)

    async def stream_started(self, stream_id: str, host_id: str) -> None:
        """The stream is live: make (or reuse) its ingest and listen for the publisher."""
        if stream_id in self.children:
            return
        row = self.db.inline.one("SELECT key_enc, port FROM media_ingests WHERE stream_id = ?", (stream_id,))
        if row is not None:
            key, port = self.cipher.decrypt_text(row["key_enc"], stream_id), row["port"]
        else:
            key, port = secrets.token_urlsafe(24), self._free_port()
            enc, now = self.cipher.encrypt_text(key, stream_id), iso(self.clock.now())
            await self.db.write(
                lambda conn: conn.execute(
                    "INSERT INTO media_ingests(stream_id, key_enc, port, created_at) VALUES (?,?,?,?)",
                    (stream_id, enc, port, now),
                )
            )
        child = self._spawn(stream_id, key, port)
        if not await child.wait_listening():
            log.warning("ingest not listening yet", extra={"streamId": stream_id, "port": port})

    async def stream_ended(self, stream_id: str) -> None:
        """Stop the child; the replay is built in the background (`GET …/replay` says when it is ready)."""
        child = self.children.pop(stream_id, None)
        self._keys.pop(stream_id, None)
        if child is None:
            return
        await child.stop()
        status = child.status
        now = self.clock.now()
        published = iso(datetime.fromtimestamp(status.published_at, now.tzinfo)) if status.published_at else None
        keep = self.config.replay_days > 0 and bool(status.verified_runs)
        expires = iso(now + timedelta(days=self.config.replay_days)) if keep else None

        def unit(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE media_ingests SET refused = refused + ?, first_publish_at = "
                "COALESCE(first_publish_at, ?) WHERE stream_id = ?",
                (status.refused, published, stream_id),
            )
            conn.execute(
                "INSERT OR REPLACE INTO stream_replays(stream_id, status, created_at, expires_at) VALUES (?,?,?,?)",
                (stream_id, "processing" if keep else "empty", iso(now), expires),
            )

        await self.db.write(unit)
        if keep:
            self._background(self._build_replay(stream_id, list(status.verified_runs)))
        else:
            replay_dir = self.stream_dir(stream_id)
            await asyncio.to_thread(_remove_tree, replay_dir)

    def _spawn(self, stream_id: str, key: str, port: int) -> IngestChild:
        spec = IngestSpec(
            stream_id,
            key,
            port,
            self.config.bind,
            self.stream_dir(stream_id),
            segment_seconds=self.config.segment_seconds,
            live_segments=self.config.live_segments,
            keep_segments=self.config.replay_days > 0,
            transcode=self.config.transcode,
        )
        child = IngestChild(self.binary, spec, self.admit)
        self.children[stream_id] = child
        self._keys[stream_id] = (key, port)
        child.start()
        return child

    def admit(self, stream_id: str) -> bool:
        """A publisher is accepted only while the stream is live and its host is in good standing."""
        row = self.db.inline.one(
            "SELECT s.status, u.status AS host_status FROM streams s JOIN users u ON u.id = s.host_id WHERE s.id = ?",
            (stream_id,),
        )
        return row is not None and row["status"] == "live" and row["host_status"] == "active"

    def _free_port(self) -> int:
        used = {port for _, port in self._keys.values()}
        for port in range(self.config.port_base, self.config.port_base + self.config.max_ingests):
            if port in used:
                continue
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((self.config.bind, port))
                except OSError:
                    continue
            return port
        raise Conflict(
            f"all {self.config.max_ingests} ingest ports are in use (media_max_ingests)",
            code="media_busy",
            field="streamId",
        )

    # -- what clients get ----------------------------------------------------------------------
    def ingest(self, stream_id: str) -> dict[str, Any]:
        if stream_id not in self._keys:
            raise Conflict("the stream is not live", code="not_live", field="streamId")
        key, port = self._keys[stream_id]
        server = f"rtmp://{self.config.public_host}:{port}/live"
        return {"ingestUrl": server, "streamKey": key, "publishUrl": f"{server}/{key}"}

    def sign(self, kind: str, stream_id: str, now: float) -> str:
        """A path token `<expiry>.<HMAC-SHA256 prefix>` for one stream's live or replay files."""
        return self.sign_at(kind, stream_id, int(now) + TOKEN_TTL)

    def check_token(self, kind: str, stream_id: str, token: str, now: float) -> None:
        exp_text, _, _ = token.partition(".")
        if not exp_text.isdigit() or int(exp_text) < now:
            raise Forbidden("the playback link has expired; ask for a new one", code="token_expired")
        good = self.sign_at(kind, stream_id, int(exp_text))
        if not hmac.compare_digest(good, token):
            raise Forbidden("the playback link is not valid", code="bad_token")

    def sign_at(self, kind: str, stream_id: str, exp: int) -> str:
        mac = hmac.new(self.signing_key, f"{kind}:{stream_id}:{exp}".encode(), sha256).digest()[:16]
        return f"{exp}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def playback_url(self, stream_id: str, now: float) -> str:
        return f"/media/live/{stream_id}/{self.sign('live', stream_id, now)}/{LIVE_PLAYLIST}"

    def status(self, stream_id: str) -> dict[str, Any]:
        child = self.children.get(stream_id)
        return child.status.as_dict() if child else {"state": "stopped"}

    # -- files the HTTP layer serves ---------------------------------------------------------------
    def live_file(self, stream_id: str, name: str) -> Path:
        """The live playlist (current verified run) or one of the verified runs' segments."""
        child = self.children.get(stream_id)
        if child is None:
            raise NotFound("the stream is not live", field="streamId")
        if name == LIVE_PLAYLIST:
            path = child.live_playlist()
            if path is None:
                raise NotFound("the host is not sending video yet", code="not_publishing")
            return path
        m = _SEGMENT_NAME.match(name)
        if not m or int(m.group(1)) not in child.status.verified_runs:
            raise NotFound("no such segment")
        path = child.spec.directory / name
        if not path.is_file():
            raise NotFound("no such segment")
        return path

    def replay_file(self, stream_id: str, name: str) -> Path:
        if not _REPLAY_NAME.match(name):
            raise NotFound("no such file")
        row = self.db.inline.one("SELECT status FROM stream_replays WHERE stream_id = ?", (stream_id,))
        if row is None or row["status"] != "ready":
            raise NotFound("no replay for this stream", field="streamId")
        path = self.stream_dir(stream_id) / replay.REPLAY_DIR / name
        if not path.is_file():
            raise NotFound("no such file")
        return path

    def host_of(self, stream_id: str) -> str:
        row = self.db.inline.one("SELECT host_id FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            raise NotFound("no such stream", field="streamId")
        return row["host_id"]

    def replay_view(self, stream_id: str, now: float) -> dict[str, Any]:
        stream = self.db.inline.one("SELECT id, status FROM streams WHERE id = ?", (stream_id,))
        if stream is None:
            raise NotFound("no such stream", field="streamId")
        row = self.db.inline.one("SELECT * FROM stream_replays WHERE stream_id = ?", (stream_id,))
        if row is None:
            status = "live" if stream["status"] == "live" else "none"
            return {
                "streamId": stream_id,
                "status": status,
                "durationSeconds": 0,
                "bytes": 0,
                "playbackUrl": None,
                "expiresAt": None,
            }
        url = (
            f"/media/replay/{stream_id}/{self.sign('replay', stream_id, now)}/{replay.PLAYLIST}"
            if row["status"] == "ready"
            else None
        )
        return {
            "streamId": stream_id,
            "status": row["status"],
            "durationSeconds": row["duration_seconds"],
            "bytes": row["bytes"],
            "playbackUrl": url,
            "expiresAt": row["expires_at"],
        }

    # -- replays -----------------------------------------------------------------------------------
    async def _build_replay(self, stream_id: str, runs: list[int]) -> None:
        directory = self.stream_dir(stream_id)
        try:
            result = await replay.build(self.binary, directory, runs)
        except Exception as exc:
            log.exception("replay failed", extra={"streamId": stream_id})
            error = str(exc)[:300]
            await self.db.write(
                lambda conn: conn.execute(
                    "UPDATE stream_replays SET status = 'failed', error = ? WHERE stream_id = ?", (error, stream_id)
                )
            )
            return
        now = iso(self.clock.now())
        if result is None:
            await self.db.write(
                lambda conn: conn.execute(
                    "UPDATE stream_replays SET status = 'empty', expires_at = NULL WHERE stream_id = ?", (stream_id,)
                )
            )
            return
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE stream_replays SET status = 'ready', duration_seconds = ?, bytes = ?, ready_at = ? "
                "WHERE stream_id = ?",
                (result.duration_seconds, result.bytes, now, stream_id),
            )
        )

    async def expire_replays(self) -> int:
        """Delete replays past their retention (a scheduler job)."""
        now = self.clock.now()
        rows = await self.db.readers.fetchall(
            "SELECT stream_id, expires_at FROM stream_replays WHERE status = 'ready' AND expires_at IS NOT NULL"
        )
        due = [r["stream_id"] for r in rows if (parse_iso(r["expires_at"]) or now) <= now]
        for sid in due:
            await asyncio.to_thread(_remove_tree, self.stream_dir(sid))
        if due:
            await self.db.write(
                lambda conn: conn.executemany(
                    "UPDATE stream_replays SET status = 'expired', bytes = 0 WHERE stream_id = ?", [(s,) for s in due]
                )
            )
        return len(due)

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- moderation: sampled frames ------------------------------------------------------------
    async def _tick_loop(self) -> None:
        """Every TICK s: publishing ingests keep their stream's heartbeat fresh (a host streaming
        from OBS has no console open); every sample_seconds: one frame per stream to the scorer."""
        loop = asyncio.get_running_loop()
        next_sample = loop.time() + self.config.sample_seconds
        tick = min(TICK, self.config.sample_seconds) if self.config.sample_seconds > 0 else TICK
        while True:
            await asyncio.sleep(tick)
            sample = self.config.sample_seconds > 0 and self.score_frame is not None and loop.time() >= next_sample
            if sample:
                next_sample = loop.time() + self.config.sample_seconds
            for stream_id, child in list(self.children.items()):
                if not child.publishing:
                    continue
                try:
                    if not self.admit(stream_id):
                        # The host was banned or suspended (or the stream ended) mid-broadcast.
                        child.cut()
                        if self.end_stream is not None:
                            await self.end_stream(stream_id, "host may no longer stream")
                        continue
                    if self.keepalive is not None:
                        self.keepalive(stream_id)
                    if sample:
                        await self.sample(stream_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("media tick failed", extra={"streamId": stream_id})

    async def sample(self, stream_id: str) -> str | None:
        """Score one frame of the newest segment; end the stream when the scorer says block."""
        child = self.children.get(stream_id)
        if child is None or not child.status.verified_runs or self.score_frame is None:
            return None
        segments = replay.recorded_segments(child.spec.directory, child.status.verified_runs[-1:])
        if not segments:
            return None
        jpeg = await frame_jpeg(self.binary, segments[-1])
        if not jpeg:
            return None
        row = self.db.inline.one("SELECT host_id FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            return None
        action = await self.score_frame(row["host_id"], stream_id, jpeg)
        log.debug("frame sampled", extra={"streamId": stream_id, "action": action})
        if action == "block" and self.end_stream is not None:
            log.warning("ending stream: sampled frame over the NSFW block threshold", extra={"streamId": stream_id})
            await self.end_stream(stream_id, "nsfw frame over the block threshold")
        return action


async def frame_jpeg(binary: str, segment: Path, *, max_side: int = 640) -> bytes:
    """The first keyframe of a segment as a JPEG (decodes one frame)."""
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-skip_frame",
        "nokey",
        "-i",
        str(segment),
        "-frames:v",
        "1",
        "-vf",
        f"scale='min({max_side},iw)':-2",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-q:v",
        "4",
        "pipe:1",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return b""
    return out if proc.returncode == 0 else b""


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
