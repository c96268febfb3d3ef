"""<data>/serve.port: where the running `serve` listens, for `healthcheck` and shell probes.

`serve` writes it once its socket listens (mode 0600) and removes it on a clean stop.
Plain `key=value` lines (pid, host, port) so a shell can read it without Python:

    pid=4242
    host=0.0.0.0
    port=8080

A file left behind by a killed server names a pid that no longer runs; readers ignore it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NAME = "serve.port"


@dataclass(frozen=True)
class Serving:
    pid: int
    host: str
    port: int

    @property
    def local_host(self) -> str:
        """The address a probe on this machine connects to (a wildcard bind answers on loopback)."""
        if self.host in ("0.0.0.0", "", "*"):
            return "127.0.0.1"
        if self.host == "::":
            return "::1"
        return self.host


def path(data_dir: Path) -> Path:
    return Path(data_dir) / NAME


def write(data_dir: Path, host: str, port: int, pid: int) -> None:
    target = path(data_dir)
    tmp = target.with_name(f".{NAME}.{pid}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"pid={pid}\nhost={host}\nport={port}\n")
    os.replace(tmp, target)  # readers see the old file or the whole new one


def read(data_dir: Path) -> Serving | None:
    """The server recorded in the data dir, if its process still runs."""
    try:
        text = path(data_dir).read_text()
    except OSError:
        return None
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    try:
        found = Serving(int(fields["pid"]), fields["host"], int(fields["port"]))
    except (KeyError, ValueError):
        return None
    return found if _alive(found.pid) else None


def remove(data_dir: Path, pid: int) -> None:
    """Remove the file if it is ours (a second server on the same data dir may have replaced it)."""
    try:
        text = path(data_dir).read_text()
    except OSError:
        return
    if f"pid={pid}\n" in text.splitlines(keepends=True):
        path(data_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True
