"""One ffmpeg child per live stream: RTMP in (listen mode), low-latency HLS out.

ffmpeg's RTMP server (`-listen 1`) takes one publisher per process and does not itself
refuse a wrong stream name: it logs "Unexpected stream <name>, expecting <key>" while the
publish command is handled, before it probes the media. So the key check is accept-then-check
on ffmpeg's own parse of the protocol: the supervisor reads the child's log, and at that
line kills the child (the publisher's connection drops), throws away whatever that run wrote,
and listens again after a pause that grows with each refusal. A run becomes *verified* only
when ffmpeg reports the input ("Input #0") with no such line before it and `admit(stream_id)`
(the stream is still live, its host not banned) says yes; only verified runs are served to
viewers and kept for the replay.

Each run writes `r<run>.m3u8` and `r<run>-<seq>.ts` into the stream's directory, so a
publisher reconnecting (a new run) never overwrites what viewers are fetching. Segments are
kept after they leave the live window when replays are on (they become the recording), and
deleted by ffmpeg otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..infra.tasks import cancel_and_wait

log = logging.getLogger("halobuzz.media")

WRONG_KEY = re.compile(r"Unexpected stream (\S*), expecting")
INPUT_OPENED = re.compile(r"^Input #0, (\w+)")
BACKOFF_START, BACKOFF_MAX = 0.2, 30.0
REFUSAL_PAUSE, REFUSAL_PAUSE_MAX = 1.0, 30.0
STOP_GRACE = 5.0
LISTENING, PUBLISHING, STOPPED = "listening", "publishing", "stopped"


@dataclass(frozen=True)
class IngestSpec:
    stream_id: str
    key: str
    port: int
    bind: str
    directory: Path
    segment_seconds: float = 1.0
    live_segments: int = 6
    keep_segments: bool = True  # replays on: segments that leave the live window stay on disk
    transcode: bool = False  # re-encode to H.264/AAC with 1 s keyframes (CPU) instead of copying


@dataclass
class IngestStatus:
    state: str = LISTENING
    run: int = 0
    verified_runs: list[int] = field(default_factory=list)
    refused: int = 0
    restarts: int = 0
    published_at: float = 0.0
    last_error: str = ""

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "run": self.run,
            "verifiedRuns": list(self.verified_runs),
            "refused": self.refused,
            "restarts": self.restarts,
            "lastError": self.last_error,
        }


def ffmpeg_args(binary: str, spec: IngestSpec, run: int) -> list[str]:
    out = spec.directory
    flags = "independent_segments+program_date_time+temp_file+discont_start"
    if not spec.keep_segments:
        flags += "+delete_segments"
    if spec.transcode:
        gop = str(max(1, round(30 * spec.segment_seconds)))
        codecs = [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-r",
            "30",
            "-g",
            gop,
            "-keyint_min",
            gop,
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
        ]
    else:
        codecs = ["-c", "copy"]
    return [
        binary,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "info",
        # Probe 0.5 s of input, not ffmpeg's default: the first segment (and its program date
        # time) starts that much sooner; RTMP encoders send codec headers first anyway.
        "-analyzeduration",
        "500000",
        "-probesize",
        "500000",
        "-listen",
        "1",
        "-i",
        f"rtmp://{spec.bind}:{spec.port}/live/{spec.key}",
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        *codecs,
        "-f",
        "hls",
        "-hls_time",
        f"{spec.segment_seconds:g}",
        "-hls_list_size",
        str(spec.live_segments),
        "-hls_flags",
        flags,
        "-hls_start_number_source",
        "epoch",
        "-hls_segment_filename",
        str(out / f"r{run}-%06d.ts"),
        str(out / f"r{run}.m3u8"),
    ]


class IngestChild:
    """Supervises the ffmpeg child of one stream until `stop()`."""

    def __init__(
        self,
        binary: str,
        spec: IngestSpec,
        admit: Callable[[str], bool],
        on_publish: Callable[[str, int], None] | None = None,
        on_unpublish: Callable[[str, int], None] | None = None,
    ) -> None:
        self.binary = binary
        self.spec = spec
        self.admit = admit
        self.on_publish = on_publish
        self.on_unpublish = on_unpublish
        self.status = IngestStatus()
        self.proc: asyncio.subprocess.Process | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._refusal_pause = REFUSAL_PAUSE

    def start(self) -> None:
        self.spec.directory.mkdir(parents=True, exist_ok=True)
        # After a restart of the appliance: runs still on disk were verified (a refused run is
        # deleted when it is refused), so they stay part of the recording; numbering goes on.
        earlier = self.existing_runs()
        self.status.run = max([0, *earlier])
        self.status.verified_runs = earlier
        self._task = asyncio.create_task(self._supervise(), name=f"ingest-{self.spec.stream_id}")

    def existing_runs(self) -> list[int]:
        """Run numbers already on disk (a restart of the appliance continues after them)."""
        runs = set()
        for p in self.spec.directory.glob("r*.m3u8"):
            try:
                runs.add(int(p.stem[1:]))
            except ValueError:
                pass
        return sorted(runs)

    async def wait_listening(self, timeout: float = 5.0) -> bool:
        """Until the child's RTMP port accepts connections (so an ingest URL handed out works at
        once). Read from the kernel's socket table: a test connection would be taken for the publisher."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if is_listening(self.spec.port):
                return True
            await asyncio.sleep(0.02)
        return False

    @property
    def publishing(self) -> bool:
        return self.status.state == PUBLISHING

    def live_playlist(self) -> Path | None:
        if not self.publishing or not self.status.verified_runs:
            return None
        path = self.spec.directory / f"r{self.status.verified_runs[-1]}.m3u8"
        return path if path.is_file() else None

    def cut(self) -> None:
        """Drop the current publisher now (the child restarts listening and checks it again)."""
        if self.proc is not None and self.proc.returncode is None:
            _kill(self.proc)

    async def stop(self) -> None:
        """Stop listening; a publishing child gets SIGINT so ffmpeg finishes the playlist (ENDLIST)."""
        self._stopping.set()
        await self._terminate()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE + 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                await cancel_and_wait([self._task])
        self.status.state = STOPPED

    async def _terminate(self, sig: int = signal.SIGINT) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.send_signal(sig)
            await asyncio.wait_for(proc.wait(), STOP_GRACE)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
        except ProcessLookupError:
            pass

    async def _supervise(self) -> None:
        delay = BACKOFF_START
        while not self._stopping.is_set():
            self.status.run += 1
            run = self.status.run
            began = time.monotonic()
            pause = 0.0
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *ffmpeg_args(self.binary, self.spec, run),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                self._error(f"cannot start ffmpeg: {exc}")
                pause = delay
            else:
                outcome = await self._watch(self.proc, run)
                await self.proc.wait()
                was_publishing = self.status.state == PUBLISHING
                self.status.state = LISTENING
                if was_publishing and self.on_unpublish:
                    self.on_unpublish(self.spec.stream_id, run)
                if outcome != "verified":
                    self._discard(run)
                if self._stopping.is_set():
                    break
                if outcome == "refused":
                    pause = self._refusal_pause
                    self._refusal_pause = min(self._refusal_pause * 2, REFUSAL_PAUSE_MAX)
                elif outcome == "verified":
                    delay = BACKOFF_START  # the publisher left: listen again at once
                    pause = 0.0
                else:
                    self._error(f"ffmpeg exited with status {self.proc.returncode}")
                    pause = delay
                    delay = min(delay * 2, BACKOFF_MAX) if time.monotonic() - began < 30 else BACKOFF_START
            self.status.restarts += 1
            if pause:
                try:
                    await asyncio.wait_for(self._stopping.wait(), pause)
                except asyncio.TimeoutError:
                    pass

    async def _watch(self, proc: asyncio.subprocess.Process, run: int) -> str:
        """Read the child's log until it exits: 'refused', 'verified' or 'failed'."""
        assert proc.stderr is not None
        outcome = "failed"
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            if outcome == "failed" and WRONG_KEY.search(line):
                outcome = "refused"
                self.status.refused += 1
                log.warning("ingest refused: wrong stream key", extra={"streamId": self.spec.stream_id})
                _kill(proc)
            elif outcome == "failed" and INPUT_OPENED.match(line):
                if self._stopping.is_set() or not self._admitted():
                    outcome = "refused"
                    self.status.refused += 1
                    log.warning("ingest refused: stream not admitted", extra={"streamId": self.spec.stream_id})
                    _kill(proc)
                    continue
                outcome = "verified"
                self._refusal_pause = REFUSAL_PAUSE
                self.status.verified_runs.append(run)
                self.status.state = PUBLISHING
                self.status.published_at = time.time()
                log.info("ingest publishing", extra={"streamId": self.spec.stream_id, "run": run})
                if self.on_publish:
                    self.on_publish(self.spec.stream_id, run)
            elif "rror" in line and "Opening" not in line:
                self.status.last_error = line[:300]
            log.debug("ffmpeg[%s]: %s", self.spec.stream_id, line)
        return outcome

    def _admitted(self) -> bool:
        try:
            return bool(self.admit(self.spec.stream_id))
        except Exception:
            log.exception("admit check failed; refusing", extra={"streamId": self.spec.stream_id})
            return False

    def _discard(self, run: int) -> None:
        """Remove what an unverified run wrote (a refused publisher's bytes are never served or kept)."""
        for p in self.spec.directory.glob(f"r{run}[.-]*"):
            p.unlink(missing_ok=True)

    def _error(self, text: str) -> None:
        self.status.last_error = text
        log.warning("ingest %s: %s", self.spec.stream_id, text)


def is_listening(port: int) -> bool:
    """A TCP socket in LISTEN state on `port` (Linux /proc/net/tcp and tcp6; True elsewhere)."""
    wanted = f":{port:04X} "
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as fh:
                found_table = True
                next(fh, None)
                for line in fh:
                    cols = line.split()
                    if len(cols) > 3 and cols[3] == "0A" and (cols[1] + " ").endswith(wanted):
                        return True
        except OSError:
            continue
    return not found_table


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL if the appliance dies, so no orphan keeps the port."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def remove_tree(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
