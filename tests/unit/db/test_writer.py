import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from halobuzz.db.connection import connect
from halobuzz.db.writer import Writer


@pytest.fixture()
def db_path(tmp_path):
    path = tmp_path / "w.db"
    conn = connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0))")
    conn.close()
    return path


class Commits:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


def test_group_commit_puts_many_units_in_one_transaction(db_path):
    commits = Commits()
    w = Writer(db_path, on_commit=commits)
    gate = threading.Event()
    # Hold the writer busy so the next 200 units queue up behind it.
    first = w.submit(lambda c: gate.wait(5))
    futs = [w.submit(lambda c, i=i: c.execute("INSERT INTO t(v) VALUES (?)", (i,)).lastrowid) for i in range(200)]
    gate.set()
    first.result(5)
    ids = [f.result(5) for f in futs]
    w.close()
    assert len(set(ids)) == 200
    assert commits.count <= 3, "200 queued units should need only a couple of commits"
    assert connect(db_path).execute("SELECT count(*) FROM t").fetchone()[0] == 200


def test_failing_unit_rolls_back_alone(db_path):
    w = Writer(db_path)
    gate = threading.Event()
    hold = w.submit(lambda c: gate.wait(5))

    def bad(c):
        c.execute("INSERT INTO t(v) VALUES (100)")
        c.execute("INSERT INTO t(v) VALUES (-1)")  # CHECK fails after a successful insert

    good1 = w.submit(lambda c: c.execute("INSERT INTO t(v) VALUES (1)"))
    failing = w.submit(bad)
    good2 = w.submit(lambda c: c.execute("INSERT INTO t(v) VALUES (2)"))
    gate.set()
    hold.result(5)
    good1.result(5)
    good2.result(5)
    with pytest.raises(sqlite3.IntegrityError):
        failing.result(5)
    w.close()
    values = sorted(r[0] for r in connect(db_path).execute("SELECT v FROM t"))
    assert values == [1, 2], "the failing unit's first insert must be rolled back too"


def test_cancelled_before_start_is_never_applied(db_path):
    async def scenario():
        w = Writer(db_path)
        gate = threading.Event()
        hold = w.submit(lambda c: gate.wait(5))
        task = asyncio.ensure_future(w.write(lambda c: c.execute("INSERT INTO t(v) VALUES (7)")))
        await asyncio.sleep(0.01)
        task.cancel()  # the client went away while the unit was still queued
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.wrap_future(hold)
        after = await w.write(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0])
        w.close()
        return task, after

    task, after = asyncio.run(scenario())
    assert task.cancelled()
    assert after == 0
    conn = connect(db_path)
    assert not conn.in_transaction


def test_cancelled_while_running_completes_atomically(db_path):
    started = threading.Event()

    def slow(c):
        c.execute("INSERT INTO t(v) VALUES (1)")
        started.set()
        time.sleep(0.2)
        c.execute("INSERT INTO t(v) VALUES (2)")

    async def scenario():
        w = Writer(db_path)
        task = asyncio.ensure_future(w.write(slow))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        follow = await w.write(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0])
        w.close()
        return follow

    assert asyncio.run(scenario()) == 2, "a unit that started must finish whole even if its caller left"


def test_close_drains_queue(db_path):
    w = Writer(db_path)
    futs = [w.submit(lambda c, i=i: c.execute("INSERT INTO t(v) VALUES (?)", (i,))) for i in range(50)]
    w.close()
    assert all(f.done() and f.exception() is None for f in futs)
    assert connect(db_path).execute("SELECT count(*) FROM t").fetchone()[0] == 50


CHILD = textwrap.dedent("""
    import sys, time
    from halobuzz.db.writer import Writer
    w = Writer(sys.argv[1])
    def tx(c):
        for i in range(2000):
            c.execute("INSERT INTO t(v) VALUES (?)", (1,))
            if i == 1000:
                print("MID", flush=True)
                time.sleep(30)
    # one committed unit first, then a big one that we kill mid-way
    w.write_sync(lambda c: c.execute("INSERT INTO t(v) VALUES (5)"))
    print("COMMITTED", flush=True)
    w.write_sync(tx)
""")


def test_sigkill_mid_transaction_reopens_consistent(db_path, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(db_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "COMMITTED"
    assert proc.stdout.readline().strip() == "MID"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    conn = connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in conn.execute("SELECT v FROM t")] == [5], "committed unit kept, killed one gone whole"


def test_a_failing_group_answers_every_caller(db_path):
    """Another process holds the write lock past busy_timeout: BEGIN fails, and every unit of the
    batch (the one that tried BEGIN and those behind it) gets an error instead of waiting forever."""
    from halobuzz.db import connection
    from halobuzz.errors import Unavailable

    blocker = connect(db_path)
    blocker.execute("BEGIN IMMEDIATE")
    old = connection.BUSY_TIMEOUT_MS
    connection.BUSY_TIMEOUT_MS = 200
    try:
        w = Writer(db_path)
    finally:
        connection.BUSY_TIMEOUT_MS = old
    futs = [w.submit(lambda c, i=i: c.execute("INSERT INTO t(v) VALUES (?)", (i,))) for i in range(20)]
    for f in futs:
        with pytest.raises(Unavailable):
            f.result(timeout=10)
    blocker.execute("ROLLBACK")
    assert w.write_sync(lambda c: c.execute("INSERT INTO t(v) VALUES (1)").lastrowid, timeout=10) == 1
    w.close()


def test_writer_refuses_when_another_process_changed_the_schema(tmp_path):
    from halobuzz.db.migrate import migrate
    from halobuzz.errors import Unavailable

    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn)
    w = Writer(path)
    assert w.write_sync(lambda c: 1) == 1
    conn.execute("INSERT INTO schema_migrations VALUES (9999, 'newer', 'x', 't')")  # e.g. a newer CLI migrated
    with pytest.raises(Unavailable, match="schema changed"):
        w.write_sync(lambda c: c.execute("SELECT 1").fetchone())
    w.close()


def test_after_commit_hook_runs_even_if_the_caller_left(db_path):
    started = threading.Event()
    heard = []

    def slow(c):
        started.set()
        time.sleep(0.2)
        return c.execute("INSERT INTO t(v) VALUES (3)").lastrowid

    async def scenario():
        w = Writer(db_path)
        task = asyncio.ensure_future(w.write(slow, after=heard.append))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()  # the client disconnected while its gift was committing
        await w.write(lambda c: None)  # next group: the first one has been delivered by now
        await asyncio.sleep(0.05)
        w.close()

    asyncio.run(scenario())
    assert heard == [1], "the committed unit's events must still be published"


def test_emitted_events_are_published_after_commit_and_dropped_on_rollback(db_path):
    published = []

    async def go():
        loop = asyncio.get_running_loop()
        w = Writer(db_path, publish=published.extend, publish_loop=loop)
        from halobuzz.db.writer import emit

        def ok(conn):
            conn.execute("INSERT INTO t(v) VALUES (1)")
            emit(conn, "inserted")
            assert published == [], "nothing is published before COMMIT"

        def bad(conn):
            emit(conn, "never")
            conn.execute("INSERT INTO t(v) VALUES (-1)")  # CHECK fails: the unit rolls back

        await w.write(ok)
        with pytest.raises(sqlite3.IntegrityError):
            await w.write(bad)
        w.close()

    asyncio.run(go())
    assert published == ["inserted"]


def test_emit_outside_a_write_unit_is_refused():
    from halobuzz.db.writer import emit

    with pytest.raises(RuntimeError):
        emit(None, "x")


def test_a_caller_cancelled_after_commit_still_gets_its_events_published(db_path):
    """The client disconnect case: the task awaiting the write is cancelled in the instant
    between COMMIT and its wake-up; the room must still hear about the committed change."""
    published = []

    async def go():
        loop = asyncio.get_running_loop()
        from halobuzz.db.writer import emit

        task: asyncio.Task | None = None
        # on_commit runs in the writer thread after COMMIT and before the answer is queued:
        # the cancellation reaches the loop first.
        w = Writer(
            db_path,
            publish=published.extend,
            publish_loop=loop,
            on_commit=lambda: loop.call_soon_threadsafe(task.cancel),
        )

        def unit(conn):
            conn.execute("INSERT INTO t(v) VALUES (7)")
            emit(conn, "committed")

        task = loop.create_task(w.write(unit))
        with pytest.raises(asyncio.CancelledError):
            await task
        w.close()
        n = connect(db_path).execute("SELECT count(*) FROM t WHERE v = 7").fetchone()[0]
        assert n == 1

    asyncio.run(go())
    assert published == ["committed"]


def test_events_of_thread_callers_go_to_the_publish_loop(db_path):
    published = []

    async def go():
        loop = asyncio.get_running_loop()
        from halobuzz.db.writer import emit

        w = Writer(db_path, publish=published.extend, publish_loop=loop)
        done = asyncio.Event()

        def unit(conn):
            conn.execute("INSERT INTO t(v) VALUES (3)")
            emit(conn, "from-thread")

        await asyncio.to_thread(w.write_sync, unit)
        loop.call_soon(done.set)  # queued after the writer's publish callback
        await done.wait()
        w.close()

    asyncio.run(go())
    assert published == ["from-thread"]
