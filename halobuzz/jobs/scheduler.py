"""APScheduler wiring: one AsyncIOScheduler on the server's loop.

Every job runs once at start (catch-up after downtime) and then on its interval;
`max_instances=1` and `coalesce=True` keep a slow run from piling up.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ..errors import NotFound

log = logging.getLogger("halobuzz.jobs")


class Jobs:
    def __init__(self) -> None:
        self._specs: list[tuple[str, Callable[[], Awaitable[object]], float]] = []
        self.scheduler: AsyncIOScheduler | None = None
        self.runs: dict[str, int] = {}

    def add(self, name: str, fn: Callable[[], Awaitable[object]], every_seconds: float) -> None:
        self._specs.append((name, fn, every_seconds))

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        for name, fn, every in self._specs:
            self.scheduler.add_job(self._wrap(name, fn), "interval", seconds=every, id=name, max_instances=1,
                                   coalesce=True, next_run_time=datetime.now(timezone.utc), misfire_grace_time=None)
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
            try:
                result = await fn()
                self.runs[name] = self.runs.get(name, 0) + 1
                if result:
                    log.info("job ran", extra={"job": name, "result": result})
                return result
            except Exception:
                log.exception("job failed", extra={"job": name})
                return None
        return job
