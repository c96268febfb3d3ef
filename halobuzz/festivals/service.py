"""Festivals as async calls for routes, jobs and the CLI: one write unit each, events after COMMIT.

Start and end are scheduled twice over: a one-shot timer armed for the next boundary (so a
festival is announced the moment it starts) and the periodic `festival_schedule` job (catch-up
after downtime, and a safety net if a timer is lost). Both run the same idempotent `announce`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..accounts import audit
from ..db import emit
from ..infra.clock import iso, parse_iso
from . import bonus, schedule, store

log = logging.getLogger("halobuzz.festivals")


def announce_unit(conn, now) -> int:
    """Inside a write unit: mark started/ended festivals; their `festival:active` events leave
    through the writer after COMMIT."""
    events = schedule.announce(conn, now)
    for e in events:
        emit(conn, e)
    return len(events)


class Festivals:
    def __init__(self, db, clock) -> None:
        self.db, self.clock = db, clock
        self._timer: asyncio.TimerHandle | None = None
        self.bonus_coins_paid = 0  # since start, for /metrics
        self._stopped = False

    async def _write_and_announce(self, work) -> Any:
        now = self.clock.now()

        def unit(conn):
            out = work(conn, now)
            announce_unit(conn, now)
            return out

        out = await self.db.write(unit)
        await self._arm()
        return out

    # -- admin -----------------------------------------------------------------------------
    async def create(self, spec: store.FestivalSpec, actor: audit.Actor) -> dict[str, Any]:
        return await self._write_and_announce(lambda conn, now: store.create(conn, spec, actor, now))

    async def update(self, festival_id: str, changes: dict[str, Any], actor: audit.Actor) -> dict[str, Any]:
        return await self._write_and_announce(lambda conn, now: store.update(conn, festival_id, changes, actor, now))

    async def cancel(self, festival_id: str, actor: audit.Actor) -> dict[str, Any]:
        return await self._write_and_announce(lambda conn, now: store.cancel(conn, festival_id, actor, now))

    # -- reads -----------------------------------------------------------------------------
    async def active(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        rows = await self.db.readers.fetchall(store.ACTIVE_SQL, (iso(now),))
        return [store.to_json(r, now) for r in rows]

    async def listing(self, include_past: bool = False) -> list[dict[str, Any]]:
        now = self.clock.now()
        sql = "SELECT * FROM festivals" + ("" if include_past else " WHERE ends_at > ?") + " ORDER BY starts_at, id"
        rows = await self.db.readers.fetchall(sql, () if include_past else (iso(now),))
        return [store.to_json(r, now) for r in rows]

    # -- jobs ------------------------------------------------------------------------------
    async def run_schedule(self) -> int:
        now = self.clock.now()
        n = await self.db.write(lambda conn: announce_unit(conn, now))
        await self._arm()
        return n

    async def run_bonuses(self) -> int:
        """Walk the ledger forward, BATCH transactions per write unit, paying festival bonuses."""
        paid = 0
        while True:
            now = self.clock.now()
            step = await self.db.write(lambda conn, now=now: bonus.settle(conn, now))
            coins = sum(b["coins"] for b in step.bonuses)
            self.bonus_coins_paid += coins
            paid += len(step.bonuses)
            if step.scanned < bonus.BATCH:
                return paid

    async def _arm(self) -> None:
        """One timer for the next start or end of any festival."""
        if self._stopped:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        now = self.clock.now()
        row = await self.db.readers.fetchone(
            "SELECT MIN(t) FROM (SELECT MIN(starts_at) AS t FROM festivals WHERE cancelled = 0 AND starts_at > ?1 "
            "UNION ALL SELECT MIN(ends_at) FROM festivals WHERE cancelled = 0 AND ends_at > ?1)",
            (iso(now),),
        )
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if row and row[0]:
            delay = max(0.0, (parse_iso(row[0]) - now).total_seconds()) + 0.05
            if delay < 7 * 86400:  # a later boundary is caught by the periodic job first
                self._timer = loop.call_later(delay, lambda: asyncio.ensure_future(self._fire()))

    async def _fire(self) -> None:
        try:
            await self.run_schedule()
        except Exception:
            log.exception("festival schedule timer failed")

    def metrics_snapshot(self) -> list[dict[str, Any]]:
        """Active festivals with their uplift (for /metrics, on the inline reader)."""
        conn, now = self.db.inline.conn, self.clock.now()
        return [bonus.uplift(conn, r["id"], now) for r in conn.execute(store.ACTIVE_SQL, (iso(now),))]

    async def start(self) -> None:
        self._stopped = False
        await self.run_schedule()

    async def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
