"""The single writer: one thread owns the only write connection.

Callers hand it a *write unit* — a plain function of a sqlite3 connection — and
await the result. The thread drains whatever units are queued (up to
`max_batch`), runs them inside one `BEGIN IMMEDIATE … COMMIT`, each under its
own SAVEPOINT, so:

* one fsync covers the whole group (group commit), which is what makes
  `synchronous=FULL` affordable;
* a unit that raises is rolled back to its savepoint and gets its exception,
  while its neighbours still commit;
* there is exactly one thread hop per unit, never one per statement;
* a caller cancelled before its unit starts (client disconnect) is skipped; a
  unit already running finishes atomically with its group. Either way no
  transaction is ever left open or half-applied.

Results are delivered only after COMMIT returns, so anything the caller does
next (answer the client) happens after the data is durable.

Events: a unit records what it wants announced with `emit(conn, event)`. The
writer keeps them with the unit, drops them if the unit rolls back, and hands
them to `publish` after COMMIT on the caller's loop — even when the caller was
cancelled meanwhile (a client that disconnects after COMMIT must not silence the
room). No service publishes after awaiting a write.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import Unavailable
from .connection import connect

log = logging.getLogger("halobuzz.db.writer")
T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], T]


_running = threading.local()  # the writer thread's current unit: where emit() records events


def emit(conn: sqlite3.Connection, event: Any) -> None:
    """Record `event` for publication once the running write unit has committed.

    Only valid inside a write unit (the writer thread, `conn` its connection); the
    event is dropped if the unit raises and rolls back to its savepoint."""
    events = getattr(_running, "events", None)
    if events is None:
        raise RuntimeError("emit() is only valid inside a write unit")
    events.append(event)


class WriterClosed(RuntimeError):
    pass


class SchemaChanged(RuntimeError):
    pass


class _Unit:
    """One write unit and how to answer its caller.

    `claim` is taken exactly once: by the writer just before running the unit,
    or by a cancelled caller withdrawing it. Whoever takes it decides its fate,
    so a unit is either never run or run to its end.
    """

    __slots__ = ("fn", "claim", "future", "loop", "afut", "after", "events")

    def __init__(self, fn, future: Future | None = None, loop=None, afut=None, after=None) -> None:
        self.fn = fn
        self.after = after  # called on the caller's loop after COMMIT, even if the caller left
        self.claim = threading.Lock()
        self.future = future  # concurrent.futures caller (threads, CLI)
        self.loop = loop  # asyncio caller: its loop and future
        self.afut = afut
        self.events: list = []  # what the unit emit()ted, published after COMMIT

    def take(self) -> bool:
        return self.claim.acquire(blocking=False)


def _deliver(items: list, publish: Callable[[list], None] | None) -> None:
    """Runs on the caller's event loop: one call for a whole committed group."""
    for unit, ok, value in items:
        # A committed unit's follow-up (in-memory mirrors, then its events) runs even when
        # its caller was cancelled meanwhile (client disconnect): the data is durable, so
        # the room must hear about it.
        if ok and unit.after is not None:
            try:
                unit.after(value)
            except Exception:
                log.exception("after-commit callback failed")
        if ok and unit.events and publish is not None:
            try:
                publish(unit.events)
            except Exception:
                log.exception("publishing committed events failed")
        afut = unit.afut
        if afut.done():  # the caller was cancelled while its unit ran
            continue
        if ok:
            afut.set_result(value)
        else:
            afut.set_exception(value)


_STOP = object()


class Writer:
    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 500,
        metrics: Any = None,
        on_commit: Callable[[], None] | None = None,
        publish: Callable[[list], None] | None = None,
        publish_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.max_batch = max_batch
        self.metrics = metrics
        self.on_commit = on_commit
        # Committed units' events go to publish(events) on the caller's loop; units from
        # threads (write_sync) have none, so theirs go to publish_loop when there is one.
        self.publish = publish
        self.publish_loop = publish_loop
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="halobuzz-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error:
            raise self._startup_error

    # -- caller side -------------------------------------------------------
    def _put(self, unit: _Unit) -> None:
        if self._closed:
            raise WriterClosed("the writer is shut down")
        self._queue.put(unit)
        if self.metrics:
            self.metrics.write_queue_depth.set(self._queue.qsize())

    def submit(self, fn: WriteFn[T]) -> "Future[T]":
        """Queue a write unit; returns a concurrent Future (for threads and the CLI)."""
        fut: Future = Future()
        self._put(_Unit(fn, future=fut))
        return fut

    async def write(self, fn: WriteFn[T], after: Callable[[T], Any] | None = None) -> T:
        """Run one write unit in the next group commit and return its result.

        If the awaiting task is cancelled (client disconnect), the unit is
        withdrawn when it has not started yet; otherwise it completes (or
        fails) atomically with its group and the result is dropped. `after(result)` runs on
        this loop once the unit is committed, whether or not the caller is still waiting.
        """
        loop = asyncio.get_running_loop()
        unit = _Unit(fn, loop=loop, afut=loop.create_future(), after=after)
        self._put(unit)
        try:
            return await unit.afut
        except asyncio.CancelledError:
            unit.take()  # withdraw it if the writer has not claimed it yet
            raise

    def write_sync(self, fn: WriteFn[T], timeout: float | None = None) -> T:
        return self.submit(fn).result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting units, finish every queued one, commit, close the connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # -- writer thread -----------------------------------------------------
    def _run(self) -> None:
        try:
            conn = connect(self.path, synchronous=self.synchronous)
        except BaseException as exc:  # surfaced to the constructor
            self._startup_error = exc
            self._ready.set()
            return
        self._schema = self._schema_version(conn)
        self._ready.set()
        stopping = False
        try:
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        stopping = True
                        break
                    batch.append(nxt)
                self._run_batch(conn, batch)
        finally:
            conn.close()
            self._refuse_leftovers()

    def _refuse_leftovers(self) -> None:
        """A unit queued in the instant between the close check and the stop marker must still
        get an answer, not wait forever."""
        error = Unavailable("the server is shutting down; try again", code="shutting_down")
        leftovers = []
        while True:
            try:
                unit = self._queue.get_nowait()
            except queue.Empty:
                break
            if unit is not _STOP and self._claim(unit):
                leftovers.append((unit, False, error))
        self._answer(leftovers)

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        try:
            return conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
        except sqlite3.OperationalError:  # a database without migrations (benchmarks, tests)
            return None

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        """Under the write lock, so nothing can migrate between this check and our COMMIT:
        a schema changed by another process since we opened means our code no longer fits it."""
        if self._schema is not None and self._schema_version(conn) != self._schema:
            raise SchemaChanged(
                f"the database schema changed from version {self._schema} while this process ran; restart it"
            )

    def _claim(self, unit: _Unit) -> bool:
        if unit.future is not None:
            return unit.future.set_running_or_notify_cancel()
        return unit.take()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Unit]) -> None:
        started = time.perf_counter()
        outcomes: list[tuple[_Unit, bool, Any]] = []
        current: _Unit | None = None
        try:
            for unit in batch:
                # Claim each unit just before running it: a caller that cancelled while
                # its unit waited (even behind a slow neighbour) is skipped, and once
                # claimed a unit can no longer be withdrawn.
                if not self._claim(unit):
                    continue
                current = unit
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                    self._check_schema(conn)
                conn.execute("SAVEPOINT unit")
                _running.events = unit.events
                try:
                    result = unit.fn(conn)
                except BaseException as exc:  # the unit's own failure, not the group's
                    unit.events.clear()
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    outcomes.append((unit, False, exc))
                    if self.metrics:
                        self.metrics.write_failures.inc()
                else:
                    conn.execute("RELEASE unit")
                    outcomes.append((unit, True, result))
                finally:
                    _running.events = None
                current = None
            if not outcomes:
                return
            conn.execute("COMMIT")
        except BaseException as exc:
            self._fail_group(conn, batch, outcomes, current, exc)
            return
        if self.metrics:
            self.metrics.commit_latency.observe(time.perf_counter() - started)
            self.metrics.batch_size.observe(len(outcomes))
            self.metrics.write_queue_depth.set(self._queue.qsize())
        if self.on_commit:
            self.on_commit()  # before any caller hears back: read-your-writes for inline readers
        self._answer(outcomes)

    def _fail_group(
        self, conn: sqlite3.Connection, batch: list[_Unit], outcomes: list, current: _Unit | None, exc: BaseException
    ) -> None:
        """The group itself failed (BEGIN could not get the lock within busy_timeout, the disk is
        full, COMMIT failed ...): nothing in it is kept, and *every* unit of the batch is answered
        — those already run, the one running, and those not reached yet — so no caller waits forever."""
        log.error("group commit failed; every unit in it is rolled back", exc_info=exc)
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        message = (
            str(exc)
            if isinstance(exc, SchemaChanged)
            else "the database could not take this write right now; try again"
        )
        error = Unavailable(message, code="db_unavailable")
        error.__cause__ = exc
        for unit in batch:
            unit.events.clear()  # nothing of the group committed: nothing to announce
        answered = {id(u) for u, _, _ in outcomes}
        failed = [(u, False, error) for u, _, _ in outcomes]
        if current is not None and id(current) not in answered:
            failed.append((current, False, error))
            answered.add(id(current))
        for unit in batch:
            if id(unit) not in answered and self._claim(unit):
                failed.append((unit, False, error))
        self._answer(failed)

    def _answer(self, outcomes: list[tuple[_Unit, bool, Any]]) -> None:
        # Thread callers' events are queued on the publish loop before any of them hears
        # back, so what a caller does next never overtakes its own announcement.
        thread_events = [e for unit, ok, _ in outcomes if ok and unit.future is not None for e in unit.events]
        if thread_events and self.publish is not None and self.publish_loop is not None:
            try:
                self.publish_loop.call_soon_threadsafe(self.publish, thread_events)
            except RuntimeError:
                pass
        by_loop: dict[Any, list] = {}
        for unit, ok, value in outcomes:
            if unit.future is not None:
                if ok:
                    unit.future.set_result(value)
                else:
                    unit.future.set_exception(value)
            else:
                by_loop.setdefault(unit.loop, []).append((unit, ok, value))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items, self.publish)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass
