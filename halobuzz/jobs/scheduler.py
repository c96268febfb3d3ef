"""APScheduler wiring: one AsyncIOScheduler on the server's loop.

Every job runs once at start (catch-up after downtime) and then on its interval;
`max_instances=1` and `coalesce=True` keep a slow run from piling up. Each run is logged
once, by the job's name: at debug when it succeeds, at error (with the traceback) when it
fails. APScheduler's own per-run lines ("Running job ...", "... executed successfully")
are silenced: they name the wrapper, not the job, and would repeat every interval.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ..errors import NotFound

log = logging.getLogger("halobuzz.jobs")
# Warnings (a missed run, a job still running) still come through.
APSCHEDULER_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")


class Jobs:
    def __init__(self) -> None:
        self._specs: list[tuple[str, Callable[[], Awaitable[object]], float]] = []
        self.scheduler: AsyncIOScheduler | None = None
        self.runs: dict[str, int] = {}

    def add(self, name: str, fn: Callable[[], Awaitable[object]], every_seconds: float) -> None:
        self._specs.append((name, fn, every_seconds))

    def start(self) -> None:
        for logger_name in APSCHEDULER_LOGGERS:
            logging.getLogger(logger_name).setLevel(logging.WARNING)
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        for name, fn, every in self._specs:
            self.scheduler.add_job(
                self._wrap(name, fn),
                "interval",
                seconds=every,
                id=name,
                name=name,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(timezone.utc),
                misfire_grace_time=None,
            )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def names(self) -> list[str]:
        return [n for n, _, _ in self._specs]

    async def run_now(self, name: str) -> object:
        for n, fn, _ in self._specs:
            if n == name:
                return await self._wrap(n, fn)()
        raise NotFound(f"no job {name!r}; known: {', '.join(self.names())}", field="name")

    def _wrap(self, name: str, fn: Callable[[], Awaitable[object]]):
        async def job():
            started = time.perf_counter()
            try:
                result = await fn()
            except Exception:
                log.exception("job %s failed", name, extra={"job": name, "ms": _ms_since(started)})
                return None
            self.runs[name] = self.runs.get(name, 0) + 1
            log.debug("job %s ran", name, extra={"job": name, "ms": _ms_since(started), "result": result})
            return result

        return job


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
