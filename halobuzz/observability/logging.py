"""Log lines on stdout with the request id of the request being served: one JSON object per
line for a collector, or one readable line per record for a person at a terminal."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

FORMATS = ("human", "json")

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with `extra=` (and the request id), in the order they were given."""
    out: dict[str, Any] = {}
    rid = request_id_var.get()
    if rid:
        out["requestId"] = rid
    for key, value in record.__dict__.items():
        if key not in _RESERVED and not key.startswith("_"):
            out[key] = value
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class HumanFormatter(logging.Formatter):
    """`08:01:02.345 INFO  halobuzz.jobs  job ran  job=payments.reconcile result=3`, times in UTC."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        fields = " ".join(f"{k}={_short(v)}" for k, v in _extras(record).items())
        line = f"{ts} {record.levelname:<7} {record.name}  {record.getMessage()}"
        if fields:
            line += f"  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _short(value: Any) -> str:
    """key=value stays one token: compact JSON for structures, quotes around strings with spaces."""
    if not isinstance(value, str):
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False) if (not value or any(c.isspace() for c in value)) else value


def pick_format(requested: str | None, stream: Any = None) -> str:
    """`requested` if given (not "auto"), else human when the stream is a terminal and JSON otherwise."""
    if requested and requested != "auto":
        if requested not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {requested!r}")
        return requested
    stream = sys.stdout if stream is None else stream
    try:
        return "human" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # no isatty, or closed
        return "json"


def configure(level: str = "info", fmt: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(HumanFormatter() if pick_format(fmt) == "human" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Sanic installs its own handlers; route them through ours.
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
