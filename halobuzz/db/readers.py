"""Read-only connections, so reads never queue behind the writer (WAL lets them run beside it).

Two kinds, chosen by cost:

* `Readers` — a small pool of aiosqlite connections opened `mode=ro`. Each
  query is one hop to that connection's thread: right for list and search
  queries that may scan.
* `InlineReader` — one read-only sqlite3 connection used directly on the event
  loop for primary-key lookups (a few microseconds). A thread hop costs
  ~65-90 µs on this class of machine, more than the lookup itself, so the
  per-request auth check reads inline. Never use it for scans.

`Readers` never cache. `InlineReader` caches point reads, exactly invalidated for this
process's own commits and re-checked against other processes (the CLI) at least every
0.5 ms (see its docstring).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import aiosqlite

from .connection import BUSY_TIMEOUT_MS, connect


class Readers:
    def __init__(self, path: str | Path, size: int = 3) -> None:
        self.path = Path(path)
        self.size = size
        self._pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(self.size):
            conn = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._all.append(conn)
            self._pool.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        conn = await self._pool.get()
        try:
            async with conn.execute(sql, params) as cur:
                return list(await cur.fetchall())
        finally:
            self._pool.put_nowait(conn)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class InlineReader:
    """Point reads on the event loop, with a cache bounded by the latest commit.

    `PRAGMA data_version` changes whenever *another* connection commits (our
    writer, the CLI in another process, a restore). We drop the whole cache when
    it moved. Checking costs a read-lock round trip, so it is done at most once
    per `recheck_ns` (0.5 ms): a row from another process's commit is at most
    that old. Our own writer calls `invalidate()` before it answers any caller,
    so a request always reads what this process has committed (read-your-writes).
    """

    def __init__(self, path: str | Path, cache_size: int = 20_000, recheck_ns: int = 500_000) -> None:
        self.conn = connect(path, readonly=True, check_same_thread=False)
        self._version = -1
        self._checked_ns = 0
        self._generation = 0  # bumped by our writer after each COMMIT (another thread)
        self._seen_generation = -1
        self._cache: dict[tuple, Any] = {}
        self.cache_size = cache_size
        self.recheck_ns = recheck_ns

    def invalidate(self) -> None:
        """Called from the writer thread after COMMIT: the next read must re-check. A counter,
        not a flag, so a check already in flight on the loop cannot swallow it."""
        self._generation += 1

    def _fresh(self) -> None:
        generation = self._generation  # read before data_version: a later bump forces a recheck
        now = time.monotonic_ns()
        if generation == self._seen_generation and now - self._checked_ns < self.recheck_ns:
            return
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        self._checked_ns = now
        self._seen_generation = generation
        if version != self._version:
            self._cache.clear()
            self._version = version

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        self._fresh()
        key = (sql, *params)
        try:
            return self._cache[key]
        except KeyError:
            pass
        row = self.conn.execute(sql, params).fetchone()
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[key] = row
        return row

    def memo(self, key: tuple, build: Callable[[], Any]) -> Any:
        """Cache anything derived only from the database (e.g. an encoded response body) under the
        same freshness rule as the rows: dropped as soon as any commit is seen."""
        self._fresh()
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build()
            return value

    def all(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self.conn.close()
