"""Benchmark plumbing: start servers on loopback, drive them with wrk, print ratio tables.

Every benchmark runs a raw baseline and our code in the same run, because this
class of machine (2 shared cores) drifts by 10-15 % between runs: the ratio is
the number to track, the absolute figures are context.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


class Proc:
    def __init__(self, args: list[str], env: dict | None = None, health: str | None = None) -> None:
        self.proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if health:
            wait_http(health)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def halobuzz_server(data_dir: Path, port: int, env: dict | None = None) -> Proc:
    base = {
        "HALOBUZZ_RATE_LIMIT_DEFAULT": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_AUTH": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_USER": "100000000/1m",
        "HALOBUZZ_LOG_LEVEL": "warning",
        "HALOBUZZ_BCRYPT_ROUNDS": "4",
        "HALOBUZZ_ACCESS_LOG": "0",
    }
    return Proc(
        [sys.executable, "-m", "halobuzz", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        env={**base, **(env or {})},
        health=f"http://127.0.0.1:{port}/healthz",
    )


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    requests: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(
    url: str, *, seconds: int = 8, connections: int = 64, headers: dict | None = None, script: str | None = None
) -> WrkResult:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed for HTTP benchmarks: apt-get install -y wrk")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    tmp = None
    if script:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        tmp.write(script)
        tmp.close()
        args += ["-s", tmp.name]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if tmp:
        os.unlink(tmp.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return WrkResult(rps, p50, p99, int(non.group(1)) if non else 0, total)


def table(title: str, rows: list[tuple[str, str]], ratio_lines: list[str]) -> None:
    print(f"\n== {title} ==")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for line in ratio_lines:
        print(f"  -> {line}")


def save(name: str, data: dict) -> None:
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2))
