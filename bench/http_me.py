"""Authenticated GET /api/v1/me vs a bare Sanic hello route (target >= 0.7x).

python -m bench.http_me [--seconds 8] [--runs 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

from .harness import Proc, free_port, halobuzz_server, save, table, wrk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    hello_port, hb_port = free_port(), free_port()
    hello = Proc(
        [sys.executable, "-m", "bench.hello_server", str(hello_port)], health=f"http://127.0.0.1:{hello_port}/"
    )
    tmp = Path(tempfile.mkdtemp())
    hb = halobuzz_server(tmp / "data", hb_port)
    try:
        r = httpx.post(
            f"http://127.0.0.1:{hb_port}/api/v1/auth/register",
            json={
                "email": "bench@example.com",
                "password": "bench-password",
                "username": "bench",
                "country": "NP",
                "birthDate": "1990-01-01",
            },
        )
        token = r.json()["accessToken"]
        base, ours = [], []
        for _ in range(args.runs):  # interleave so drift hits both alike
            base.append(wrk(f"http://127.0.0.1:{hello_port}/", seconds=args.seconds))
            ours.append(
                wrk(
                    f"http://127.0.0.1:{hb_port}/api/v1/me",
                    seconds=args.seconds,
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
    finally:
        hello.stop()
        hb.stop()
    b = max(base, key=lambda x: x.rps)
    o = max(ours, key=lambda x: x.rps)
    assert all(x.non2xx == 0 for x in ours), "authed route returned errors"
    ratio = o.rps / b.rps
    table(
        "authed GET /api/v1/me vs Sanic hello (wrk -t1 -c64, best of runs)",
        [
            ("Sanic hello", f"{b.rps:9.0f} req/s  p50 {b.p50_ms:.2f} ms  p99 {b.p99_ms:.2f} ms"),
            ("GET /api/v1/me", f"{o.rps:9.0f} req/s  p50 {o.p50_ms:.2f} ms  p99 {o.p99_ms:.2f} ms"),
        ],
        [f"ratio {ratio:.2f}x (target >= 0.70x)"],
    )
    save("http_me", {"baseline_rps": b.rps, "ours_rps": o.rps, "ratio": ratio, "ours_p99_ms": o.p99_ms})


if __name__ == "__main__":
    main()
