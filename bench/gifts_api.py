"""Gifts through the API (synchronous=FULL, group commit) with p50/p99, beside the
raw sqlite3 batched gift transaction and the Sanic hello route in the same run.

Targets (performance.md): >= 10k gifts/s with p99 <= 20 ms, and >= 0.25x raw.

    python -m bench.gifts_api [--seconds 8]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import httpx

from .harness import Proc, free_port, halobuzz_server, save, table, wrk
from .writer import gift_unit, gift_world, run_raw

LUA = r"""
local counter = 0
local prefix = tostring(math.random(1, 1e9))
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. prefix .. "-" .. counter
  return wrk.format("POST", nil, nil, '{"giftId":"rose","quantity":1}')
end
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    port, hello_port = free_port(), free_port()
    server = halobuzz_server(tmp / "data", port)
    hello = Proc(
        [sys.executable, "-m", "bench.hello_server", str(hello_port)], health=f"http://127.0.0.1:{hello_port}/"
    )
    try:
        base = f"http://127.0.0.1:{port}"
        reg = lambda name: httpx.post(
            base + "/api/v1/auth/register",
            json={  # noqa: E731
                "email": f"{name}@example.com",
                "password": "bench-password",
                "username": name,
                "country": "NP",
                "birthDate": "1990-01-01",
            },
        ).json()
        host, viewer = reg("benchhost"), reg("benchviewer")
        h = {"Authorization": f"Bearer {host['accessToken']}"}
        sid = httpx.post(base + "/api/v1/streams", json={"title": "bench"}, headers=h).json()["id"]
        httpx.post(base + f"/api/v1/streams/{sid}/start", headers=h)
        subprocess_grant(tmp / "data", "benchviewer")
        hello_r = wrk(f"http://127.0.0.1:{hello_port}/", seconds=args.seconds)
        api = wrk(
            f"{base}/api/v1/streams/{sid}/gifts",
            seconds=args.seconds,
            script=LUA,
            headers={"Authorization": f"Bearer {viewer['accessToken']}", "Content-Type": "application/json"},
        )
    finally:
        server.stop()
        hello.stop()
    db = sqlite3.connect(tmp / "data" / "halobuzz.db")
    landed = db.execute("SELECT count(*) FROM ledger_tx WHERE kind = 'gift'").fetchone()[0]
    db.close()
    ids, _ = gift_world(tmp / "raw.db")
    from halobuzz.infra.clock import Clock

    clock = Clock()
    raw = run_raw(tmp / "raw.db", lambda rnd, n: gift_unit(ids, rnd, n, clock), 3.0)
    ok_rps = api.rps * (1 - api.non2xx / max(api.requests, 1))
    table(
        "gifts through the API, synchronous=FULL (wrk -t1 -c64)",
        [
            ("Sanic hello", f"{hello_r.rps:9.0f} req/s  p99 {hello_r.p99_ms:.1f} ms"),
            ("raw sqlite3 gift tx, 100/tx", f"{raw:9.0f} gifts/s"),
            (
                "POST /streams/{id}/gifts",
                f"{ok_rps:9.0f} gifts/s  p50 {api.p50_ms:.1f} ms  p99 {api.p99_ms:.1f} ms"
                f"  (errors {api.non2xx}, ledger rows {landed})",
            ),
        ],
        [
            f"API gifts {ok_rps / raw:.2f}x raw gift transactions (target >= 0.25x)",
            f"API gifts {ok_rps / hello_r.rps:.2f}x the hello route",
            f"absolute {ok_rps:.0f} gifts/s, p99 {api.p99_ms:.1f} ms (target >= 10000/s, p99 <= 20 ms)",
        ],
    )
    save(
        "gifts_api",
        {
            "api_gifts_per_s": ok_rps,
            "p50_ms": api.p50_ms,
            "p99_ms": api.p99_ms,
            "raw": raw,
            "hello": hello_r.rps,
            "landed": landed,
            "errors": api.non2xx,
        },
    )


def subprocess_grant(data_dir: Path, user: str) -> None:
    import subprocess

    subprocess.run(
        [
            sys.executable,
            "-m",
            "halobuzz",
            "coins",
            "grant",
            "--user",
            user,
            "--amount",
            "10000000",
            "--reason",
            "bench",
            "--data-dir",
            str(data_dir),
        ],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    main()
