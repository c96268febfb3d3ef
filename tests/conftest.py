"""Shared fixtures: a real server process on a loopback port with a temporary data dir."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ADMIN_EMAIL = "root@test.halobuzz"
_counter = itertools.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`halobuzz serve` in a child process, as an operator would run it."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.args = args  # extra `serve` options (e.g. --edge --shard B)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HALOBUZZ_BCRYPT_ROUNDS": "4",
            "HALOBUZZ_RATE_LIMIT_DEFAULT": "100000/1m",
            "HALOBUZZ_RATE_LIMIT_AUTH": "100000/1m",
            "HALOBUZZ_RATE_LIMIT_USER": "100000/1m",
            "HALOBUZZ_ADMIN_EMAILS": ADMIN_EMAIL,
            "HALOBUZZ_LOG_LEVEL": "warning",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> "Server":
        self.port = self.port or free_port()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "halobuzz",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            try:
                # Serving (/healthz) and the moderation models loaded (they load after the first
                # /healthz; /readyz says "loading" until then), as tests expect of a started server.
                if (
                    httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200
                    and httpx.get(self.url + "/readyz", timeout=5).json().get("checks", {}).get("moderation")
                    != "loading"
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy: " + self.log_path.read_text()[-3000:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode if self.proc else 0

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("data") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture()
def client(server):
    with server.client() as c:
        yield c


def register(client: httpx.Client, name: str | None = None, **fields) -> dict:
    """Register a fresh user; returns the response JSON with an `auth` header dict added."""
    n = name or f"user{os.getpid()}_{next(_counter)}"
    body = {
        "email": f"{n}@example.com",
        "password": "correct horse battery",
        "username": n,
        "country": "NP",
        "birthDate": "1998-02-03",
        **fields,
    }
    r = client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    data["auth"] = {"Authorization": f"Bearer {data['accessToken']}"}
    data["password"] = body["password"]
    return data


def cli(data_dir: Path, *args: str, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "halobuzz", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
        env={**os.environ, "HALOBUZZ_BCRYPT_ROUNDS": "4", **(env or {})},
    )
