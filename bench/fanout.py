"""Room fan-out, chat latency and memory per idle connection: our /ws vs raw websockets.broadcast.

    python -m bench.fanout [--clients 1000] [--messages 1000] [--rate 50] [--seconds 5] [--runs 3]
                           [--client-procs 1]

Same run, same machine, same load client, for both servers: viewers are Node processes
(bench/fanout_client.js, raw `net` sockets, no npm packages) so the client is never the
bottleneck the way a single Python client was (it parsed ~20 µs per frame; Node ~1 µs).
Each repetition starts a fresh HaloBuzz server and a fresh raw server and measures:
1. memory: server RSS delta for N idle (joined) connections → KB per connection;
2. blast: M messages as fast as possible into one room of N viewers → deliveries/s
   (ours: the host sends chat:new over /ws — persisted with synchronous=FULL, rate-checked,
   moderated, coalesced per connection; raw: websockets.broadcast of a same-size frame);
3. paced chat: RATE messages/s for SECONDS → p50/p99 end-to-end latency.
   Ours is stamped when the host's client SENDS (includes the hop in, the commit and the
   fan-out); raw is stamped when the server broadcasts, so raw gets a small head start.
Prints per-run numbers, then medians over runs and the ratios ours/raw (median of the
per-run ratios, since the machine is shared and drifts between runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .harness import free_port, halobuzz_server, save, table

ROOT = Path(__file__).parent.parent
CLIENT_JS = Path(__file__).parent / "fanout_client.js"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def now_ms() -> float:
    return time.monotonic_ns() / 1e6


class Viewers:
    """N viewer sockets spread over K Node processes."""

    def __init__(self, procs: list[asyncio.subprocess.Process]) -> None:
        self.procs = procs

    @classmethod
    async def open(cls, port: int, path: str, n: int, sample_every: int, k: int, join: str | None = None) -> "Viewers":
        procs = []
        per = [n // k + (1 if i < n % k else 0) for i in range(k)]
        for count in per:
            args = ["node", str(CLIENT_JS), str(port), path, str(count), str(sample_every)] + ([join] if join else [])
            procs.append(
                await asyncio.create_subprocess_exec(
                    *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=256 * 1024 * 1024
                )
            )
        for pr in procs:
            line = (await asyncio.wait_for(pr.stdout.readline(), 120)).decode().strip()
            if line != "READY":
                raise RuntimeError(f"load client failed: {line}")
        return cls(procs)

    async def _ask(self, cmd: str) -> list[str]:
        for pr in self.procs:
            pr.stdin.write(cmd.encode() + b"\n")
        await asyncio.gather(*(pr.stdin.drain() for pr in self.procs))
        return [(await pr.stdout.readline()).decode() for pr in self.procs]

    async def reset(self) -> None:
        await self._ask("reset")

    async def stats(self, samples: bool = True) -> dict:
        parts = [json.loads(x) for x in await self._ask("stats" if samples else "count")]
        return {
            "frames": sum(p["frames"] for p in parts),
            "ends": sum(p["ends"] for p in parts),
            "lat": [v for p in parts for v in p["lat"]],
            "last": max(p["last"] for p in parts),
            "open": sum(p["open"] for p in parts),
            "closed": sum(p["closed"] for p in parts),
        }

    async def wait_frames(self, expected: int, timeout: float, quiet: float = 1.0) -> dict:
        """Until `expected` frames arrived, or nothing arrived for `quiet` s, or timeout."""
        deadline = time.monotonic() + timeout
        prev, since = -1, time.monotonic()
        while True:
            st = await self.stats(False)
            if st["frames"] >= expected or time.monotonic() > deadline:
                return await self.stats()
            if st["frames"] != prev:
                prev, since = st["frames"], time.monotonic()
            elif time.monotonic() - since > quiet:
                return await self.stats()
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for pr in self.procs:
            try:
                pr.stdin.write(b"quit\n")
            except Exception:
                pass
        for pr in self.procs:
            try:
                await asyncio.wait_for(pr.wait(), 10)
            except asyncio.TimeoutError:
                pr.kill()
                await pr.wait()


# -- raw websockets -------------------------------------------------------------------------


async def raw_run(n: int, m: int, rate: float, sample_every: int, k: int) -> dict:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ws_raw_server", str(port), str(n), str(m), str(rate), "1.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    viewers = None
    try:
        assert proc.stdout.readline().strip() == b"READY"
        base = rss_kb(proc.pid)
        viewers = await Viewers.open(port, "/", n, sample_every, k)
        await asyncio.sleep(0.5)
        idle = rss_kb(proc.pid)
        start = now_ms() + 500  # the server starts 1.0 s after the last connect; we waited 0.5
        deadline = time.monotonic() + 180
        while True:
            st = await viewers.stats(False)
            if st["ends"] >= n or time.monotonic() > deadline:
                st = await viewers.stats()
                break
            await asyncio.sleep(0.02)
        got = st["frames"]
        elapsed = (st["last"] - start) / 1000
        return {
            "deliveries": got,
            "expected": n * m,
            "seconds": elapsed,
            "rate": got / elapsed,
            "p50": pct(st["lat"], 0.5),
            "p99": pct(st["lat"], 0.99),
            "kb_per_conn": (idle - base) / n,
        }
    finally:
        if viewers:
            await viewers.close()
        proc.kill()
        proc.wait()


# -- ours ---------------------------------------------------------------------------------


class Ours:
    def __init__(self, n: int, env: dict | None = None, tmpfs: bool = False) -> None:
        self.dir = tempfile.mkdtemp(prefix="hb-fanout-", dir="/dev/shm" if tmpfs else None)
        self.port = free_port()
        self.proc = halobuzz_server(
            Path(self.dir) / "data",
            self.port,
            env={
                "HALOBUZZ_WS_MAX_PER_USER": str(n + 10),
                "HALOBUZZ_WS_MAX_PER_IP": str(n + 10),
                "HALOBUZZ_CHAT_RATE_USER": "1000000/1s",
                "HALOBUZZ_CHAT_RATE_ROOM": "1000000/1s",
                "HALOBUZZ_METRICS_INTERVAL": "3600",
                "HALOBUZZ_WS_SEND_QUEUE_BYTES": str(8 * 1024 * 1024),
                **(env or {}),
            },
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def user(self, name: str) -> dict:
        r = self.http.post(
            "/api/v1/auth/register",
            json={
                "email": f"{name}@b.x",
                "password": "benchmark-pass",
                "username": name,
                "country": "NP",
                "birthDate": "1990-01-01",
            },
        )
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.stop()


class Driver(asyncio.Protocol):
    """The host's socket: sends masked chat frames; whatever comes back is ignored."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.opened = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        if not self.opened.done() and b"\r\n\r\n" in data:
            self.opened.set_result(True)

    def send_text(self, text: str) -> None:
        payload = text.encode()  # zero mask: valid per RFC 6455 and cheap to build
        n = len(payload)
        head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)


async def ours_run(
    n: int, m: int, rate: float, sample_every: int, seconds: float, k: int, env: dict | None, tmpfs: bool = False
) -> dict:
    ours = Ours(n, env, tmpfs)
    viewers = None
    try:
        tag = time.time_ns() % 10**9
        host, viewer = ours.user(f"host{tag}"), ours.user(f"view{tag}")
        hauth = {"Authorization": f"Bearer {host['accessToken']}"}
        sid = ours.http.post("/api/v1/streams", json={"title": "bench"}, headers=hauth).json()["id"]
        ours.http.post(f"/api/v1/streams/{sid}/start", headers=hauth).raise_for_status()
        pid = ours.proc.proc.pid
        await asyncio.sleep(0.5)
        base = rss_kb(pid)
        join = json.dumps({"event": "stream:join", "data": {"streamId": sid}, "id": "j", "ts": None})
        viewers = await Viewers.open(ours.port, f"/ws?token={viewer['accessToken']}", n, sample_every, k, join)
        await asyncio.sleep(1.5)
        idle = rss_kb(pid)
        loop = asyncio.get_running_loop()
        _, drv = await loop.create_connection(
            lambda: Driver(f"/ws?token={host['accessToken']}"), "127.0.0.1", ours.port
        )
        await drv.opened
        drv.send_text(join)
        await asyncio.sleep(0.3)
        await viewers.reset()
        pad = "x" * 120

        def chat(i: int) -> None:
            drv.send_text(
                json.dumps(
                    {
                        "event": "chat:new",
                        "data": {"streamId": sid, "text": f"T{time.monotonic_ns()} {pad}"},
                        "id": str(i),
                        "ts": None,
                    }
                )
            )

        # blast
        start = now_ms()
        for i in range(m):
            chat(i)
            if i % 20 == 19:
                await asyncio.sleep(0)
        st = await viewers.wait_frames(n * m, 180, quiet=3.0)
        secs = (st["last"] - start) / 1000
        blast = {
            "deliveries": st["frames"],
            "expected": n * m,
            "seconds": secs,
            "rate": st["frames"] / secs,
            "p50": pct(st["lat"], 0.5),
            "p99": pct(st["lat"], 0.99),
            "kb_per_conn": (idle - base) / n,
            "closed": st["closed"],
        }
        # paced chat
        await asyncio.sleep(1.0)
        await viewers.reset()
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for i in range(total):
            chat(m + i)
            await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - time.perf_counter()))
        st = await viewers.wait_frames(n * total, 30)
        paced = {
            "messages": total,
            "deliveries": st["frames"],
            "expected": n * total,
            "p50": pct(st["lat"], 0.5),
            "p99": pct(st["lat"], 0.99),
            "closed": st["closed"],
        }
        drv.transport.close()
        return {"blast": blast, "paced": paced}
    finally:
        if viewers:
            await viewers.close()
        ours.stop()


def med(xs: list[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


async def main(args) -> None:
    n, m, k = args.clients, args.messages, args.client_procs
    sample = max(1, n // 100)
    env = dict(kv.split("=", 1) for kv in args.env)
    runs = []
    for r in range(args.runs):
        mine = await ours_run(n, m, args.rate, sample, args.seconds, k, env, args.tmpfs)
        raw_blast = await raw_run(n, m, 0, sample, k)
        raw_paced = await raw_run(n, int(args.rate * args.seconds), args.rate, sample, k)
        b, p = mine["blast"], mine["paced"]
        one = {
            "ours": mine,
            "raw_blast": raw_blast,
            "raw_paced": raw_paced,
            "fanout_ratio": b["rate"] / raw_blast["rate"],
            "p99_ratio": p["p99"] / raw_paced["p99"],
            "mem_ratio": b["kb_per_conn"] / max(0.1, raw_blast["kb_per_conn"]),
        }
        runs.append(one)
        print(
            f"run {r + 1}: raw blast {raw_blast['rate']:,.0f}/s ({raw_blast['deliveries']:,}/{raw_blast['expected']:,}), "
            f"ours {b['rate']:,.0f}/s ({b['deliveries']:,}/{b['expected']:,}) = {one['fanout_ratio']:.2f}x | "
            f"paced p50/p99 raw {raw_paced['p50']:.1f}/{raw_paced['p99']:.1f} ms "
            f"({raw_paced['deliveries']:,}/{raw_paced['expected']:,}), ours {p['p50']:.1f}/{p['p99']:.1f} ms "
            f"({p['deliveries']:,}/{p['expected']:,}) | KB/conn raw {raw_blast['kb_per_conn']:.1f} "
            f"ours {b['kb_per_conn']:.1f} | load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    def col(path):
        out = []
        for one in runs:
            v = one
            for key in path:
                v = v[key]
            out.append(v)
        return med(out)

    rows = [
        (
            "raw websockets.broadcast, blast",
            f"{col(['raw_blast', 'rate']):,.0f} deliveries/s  p99 {col(['raw_blast', 'p99']):.1f} ms",
        ),
        (
            "HaloBuzz /ws room, blast (chat:new)",
            f"{col(['ours', 'blast', 'rate']):,.0f} deliveries/s  p99 {col(['ours', 'blast', 'p99']):.1f} ms",
        ),
        (
            f"raw, paced {args.rate:g} msg/s",
            f"p50 {col(['raw_paced', 'p50']):.1f} ms  p99 {col(['raw_paced', 'p99']):.1f} ms",
        ),
        (
            f"HaloBuzz, paced {args.rate:g} msg/s",
            f"p50 {col(['ours', 'paced', 'p50']):.1f} ms  p99 {col(['ours', 'paced', 'p99']):.1f} ms",
        ),
        ("raw, memory per idle connection", f"{col(['raw_blast', 'kb_per_conn']):.1f} KB"),
        (
            "HaloBuzz, memory per idle connection",
            f"{col(['ours', 'blast', 'kb_per_conn']):.1f} KB (joined, authenticated)",
        ),
    ]
    target = 25 if n <= 1000 else 100
    ratios = [
        f"fan-out ours/raw = {col(['fanout_ratio']):.2f}x (target >= 0.8x)",
        f"chat p99 at {n} viewers, {args.rate:g} msg/s = {col(['ours', 'paced', 'p99']):.1f} ms "
        f"(target <= {target} ms); ours/raw p99 = {col(['p99_ratio']):.2f}x",
        f"memory per idle connection ours/raw = {col(['mem_ratio']):.2f}x "
        f"({col(['ours', 'blast', 'kb_per_conn']):.1f} KB, target <= 20 KB)",
    ]
    table(
        f"Room fan-out, {n} viewers, {m} messages, medians of {len(runs)} runs ({k} Node client procs)"
        + (", DB on tmpfs" if args.tmpfs else ""),
        rows,
        ratios,
    )
    save(f"fanout_{n}" + ("_tmpfs" if args.tmpfs else ""), {"args": vars(args), "runs": runs})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--client-procs", type=int, default=1)
    ap.add_argument(
        "--tmpfs",
        action="store_true",
        help="diagnostic: our database on /dev/shm, so fsync is free (shows what the disk costs)",
    )
    ap.add_argument("--env", action="append", default=[], help="extra HALOBUZZ_*=value for our server")
    asyncio.run(main(ap.parse_args()))
