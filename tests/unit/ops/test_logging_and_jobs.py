"""Log formats (human on a terminal, JSON otherwise) and the scheduler's one line per job run."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from halobuzz.jobs.scheduler import Jobs
from halobuzz.observability import logging as applog


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(msg: str = "job %s ran", *args, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("halobuzz.jobs", logging.INFO, __file__, 1, msg, args or ("reconcile",), None)
    rec.__dict__.update(extra)
    return rec


def test_format_follows_the_terminal_unless_asked():
    assert applog.pick_format(None, Tty()) == "human"
    assert applog.pick_format(None, io.StringIO()) == "json"
    assert applog.pick_format("auto", Tty()) == "human"
    assert applog.pick_format("json", Tty()) == "json"
    assert applog.pick_format("human", io.StringIO()) == "human"
    with pytest.raises(ValueError):
        applog.pick_format("xml")


def test_json_line_carries_extras_and_request_id():
    token = applog.request_id_var.set("req-7")
    try:
        line = applog.JsonFormatter().format(record(job="reconcile", ms=1.5))
    finally:
        applog.request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["msg"] == "job reconcile ran" and entry["level"] == "info" and entry["logger"] == "halobuzz.jobs"
    assert entry["job"] == "reconcile" and entry["ms"] == 1.5 and entry["requestId"] == "req-7"


def test_human_line_is_one_readable_line():
    line = applog.HumanFormatter().format(record(job="reconcile", result={"done": 2}, note="two words"))
    assert "\n" not in line and not line.startswith("{")
    assert "INFO" in line and "halobuzz.jobs  job reconcile ran" in line
    assert "job=reconcile" in line and 'result={"done":2}' in line and 'note="two words"' in line


def test_configure_picks_the_formatter(monkeypatch):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        monkeypatch.setattr("sys.stdout", Tty())
        applog.configure("info")
        assert isinstance(root.handlers[0].formatter, applog.HumanFormatter)
        applog.configure("info", "json")
        assert isinstance(root.handlers[0].formatter, applog.JsonFormatter)
        monkeypatch.setattr("sys.stdout", io.StringIO())
        applog.configure("info")
        assert isinstance(root.handlers[0].formatter, applog.JsonFormatter)
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def test_each_run_logged_once_by_name_debug_unless_it_fails(caplog):
    caplog.set_level(logging.DEBUG)

    async def ok():
        return {"swept": 3}

    async def broken():
        raise RuntimeError("gateway down")

    async def scenario():
        jobs = Jobs()
        jobs.add("sweep", ok, 3600)
        jobs.add("reconcile", broken, 3600)
        ran = asyncio.Event()
        both = {"n": 0}

        # Run through the real scheduler: both jobs fire once at start.
        def done(event):
            both["n"] += 1
            if both["n"] == 2:
                ran.set()

        jobs.start()
        jobs.scheduler.add_listener(done, mask=_executed_mask())
        await asyncio.wait_for(ran.wait(), 10)
        jobs.shutdown()
        return jobs

    jobs = asyncio.run(scenario())
    mine = [r for r in caplog.records if r.name == "halobuzz.jobs"]
    assert [(r.levelno, r.getMessage()) for r in sorted(mine, key=lambda r: r.getMessage())] == [
        (logging.ERROR, "job reconcile failed"),
        (logging.DEBUG, "job sweep ran"),
    ]
    failed = next(r for r in mine if r.levelno == logging.ERROR)
    assert failed.job == "reconcile" and failed.exc_info and "gateway down" in str(failed.exc_info[1])
    assert jobs.runs == {"sweep": 1}
    chatter = [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno < logging.WARNING]
    assert chatter == [], [r.getMessage() for r in chatter]


def _executed_mask() -> int:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    return EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
