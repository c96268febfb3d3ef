"""Every SIGTERM (and SIGINT), from the first instant, starts the graceful stop.

Sanic installs its own handler just before the `after_server_start` listeners run, and that
handler stops the event loop. A signal landing while those listeners run (the server already
answers /healthz then) either aborted start-up with "Event loop stopped before Future
completed" (no stop listeners: no final checkpoint, Litestream not stopped cleanly) or, landing
in the last loop iteration of start-up, was consumed by it and the server kept serving until
a second signal. Here a signal is only *recorded* until start-up has finished; then the stop
is requested, and requested again every 250 ms until the stop listeners have begun, so a
request swallowed by a loop transition is never lost.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from sanic import Sanic

log = logging.getLogger("halobuzz.app")
SIGNALS = (signal.SIGTERM, signal.SIGINT)
RETRY_SECONDS = 0.25


class StopGuard:
    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.requested = False
        self.serving = False
        self.stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        """Call before app.run: covers the time before Sanic's handlers exist, then replaces them."""
        for sig in SIGNALS:
            signal.signal(sig, self._early)
        self.app.listener("after_server_start", priority=1_000_000)(self._take_over)
        self.app.listener("after_server_start", priority=-1_000_000)(self._started)
        self.app.listener("before_server_stop", priority=1_000_000)(self._stopping)

    def _early(self, signum, frame) -> None:
        self.requested = True

    async def _take_over(self, app: Sanic) -> None:
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._loop.add_signal_handler(sig, self._on_signal)

    def _on_signal(self) -> None:
        self.requested = True
        if self.serving:
            self._stop()

    async def _started(self, app: Sanic) -> None:
        self.serving = True
        if self.requested:
            log.info("stop requested during start-up: stopping now")
            asyncio.get_running_loop().call_later(0.05, self._stop)

    async def _stopping(self, app: Sanic) -> None:
        self.stopping = True

    def _stop(self) -> None:
        if self.stopping:
            return
        self.app.stop(terminate=False)
        assert self._loop is not None
        self._loop.call_later(RETRY_SECONDS, self._stop)
