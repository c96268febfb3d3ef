"""The ONNX scorers, loaded once in a background thread after the server listens.

Importing onnxruntime and numpy and creating the three InferenceSessions costs about half a
second of CPU, so `serve` does not wait for it before its first /healthz: start-up checks the
model files only (size and sha256 against the manifest, setup.py), and `ModelLoader.start()`
builds the scorers in a daemon thread. Until they are ready /readyz says "loading", and
anything that needs a scorer waits for it (bounded by `wait_seconds`), so a message or image
that arrives early is moderated late, never skipped: when the wait runs out or the load failed,
the caller gets `Unavailable` (503), not an unmoderated pass.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Callable

from ..errors import Unavailable

log = logging.getLogger("halobuzz.moderation")
LOADING = "loading"
WAIT_SECONDS = 30.0  # longest a request waits for the scorers (a loaded 2-core box needs a few seconds)


class ModelsUnavailable(Unavailable):
    """The moderation models are not loaded (still loading past the wait, or the load failed)."""

    code = "moderation_unavailable"


@dataclass(frozen=True)
class Scorers:
    text: Any  # text.TextScorer
    nsfw: Any  # image.NsfwScorer (None where a test needs no images)
    age: Any  # age.AgeEstimator (likewise)


class ModelLoader:
    """Builds `Scorers` once with `build()` in its own thread; callers wait for the result."""

    def __init__(self, build: Callable[[], Scorers], *, wait_seconds: float = WAIT_SECONDS) -> None:
        self._build = build
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self.scorers: Scorers | None = None
        self.error: str | None = None
        self.seconds: float | None = None  # how long the load took (for the log and tests)

    @classmethod
    def loaded(cls, scorers: Scorers) -> "ModelLoader":
        """A loader whose scorers are already built (tests, tools)."""
        loader = cls(lambda: scorers)
        loader.scorers = scorers
        loader._done.set()
        return loader

    # -- loading -----------------------------------------------------------------------------
    def start(self) -> None:
        """Begin loading in a daemon thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or self._done.is_set():
                return
            self._thread = threading.Thread(target=self._load, name="moderation-models", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        t0 = perf_counter()
        try:
            scorers = self._build()
        except Exception as exc:  # reported by /readyz and to every waiter; serve keeps running
            log.exception("moderation models failed to load")
            self.error = f"failed to load: {exc}"
        else:
            self.scorers = scorers
            self.seconds = perf_counter() - t0
            log.info("moderation models loaded", extra={"ms": round(self.seconds * 1000)})
        with self._lock:
            self._done.set()
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, fut)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass

    # -- asking ------------------------------------------------------------------------------
    def problem(self) -> str | None:
        """For /readyz: None when ready, "loading", or why the load failed."""
        if not self._done.is_set():
            return LOADING
        return self.error

    @property
    def ready(self) -> bool:
        return self.scorers is not None

    def get(self) -> Scorers:
        """The scorers, waiting (blocking this thread, bounded) for the load if needed. For code
        that cannot await; async callers `await wait()` first so the loop is never held."""
        if self.scorers is not None:
            return self.scorers
        self.start()
        if not self._done.wait(self.wait_seconds):
            raise ModelsUnavailable("moderation models are still loading; try again shortly")
        return self._result()

    async def wait(self) -> Scorers:
        """The scorers, awaiting the load if needed (bounded by wait_seconds)."""
        if self.scorers is not None:
            return self.scorers
        self.start()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._lock:
            if not self._done.is_set():
                self._waiters.append((loop, fut))
            else:
                fut.set_result(None)
        try:
            await asyncio.wait_for(fut, self.wait_seconds)
        except asyncio.TimeoutError:
            raise ModelsUnavailable("moderation models are still loading; try again shortly") from None
        return self._result()

    def _result(self) -> Scorers:
        if self.scorers is None:
            raise ModelsUnavailable(f"moderation models unavailable: {self.error or 'not loaded'}")
        return self.scorers


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)
