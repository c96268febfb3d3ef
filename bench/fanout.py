"""Room fan-out, chat latency and memory per idle connection: our /ws vs raw websockets.broadcast.

    python -m bench.fanout [--clients 1000] [--messages 1000] [--rate 50] [--seconds 5]

Same run, same machine, same client (one Python process, raw sockets, frames counted by
their headers, latency from a CLOCK_MONOTONIC stamp in the text on a sample of sockets):
1. blast: M messages as fast as possible into one room of N viewers → deliveries/s
   (ours: the host sends chat:new over /ws — persisted, rate-checked, moderated, coalesced
   per connection per tick; raw: websockets.broadcast of a same-size frame);
2. paced chat: RATE messages/s for SECONDS → p50/p99 end-to-end latency;
3. memory: server RSS delta for N idle (joined) connections → KB per connection.
Prints absolute numbers and the ratios ours/raw.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .harness import free_port, halobuzz_server, save, table

STAMP = re.compile(rb'"text":"T(\d+)')


class Client(asyncio.Protocol):
    def __init__(self, path: str, sample: bool, stats: dict) -> None:
        self.path = path
        self.sample = sample
        self.stats = stats
        self.buf = bytearray()
        self.pos = 0
        self.open = asyncio.get_running_loop().create_future()
        self.transport = None
        self.frames = 0
        self.end = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET {self.path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.transport.write(head + mask + masked)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open.done():
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                return
            del buf[:i + 4]
            self.open.set_result(True)
        pos, end = 0, len(buf)
        now = time.monotonic_ns() if self.sample else 0
        while end - pos >= 2:
            op = buf[pos] & 0x0F
            n = buf[pos + 1] & 0x7F
            hl = 2
            if n == 126:
                if end - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2:pos + 4], "big")
                hl = 4
            elif n == 127:
                if end - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2:pos + 10], "big")
                hl = 10
            if end - pos < hl + n:
                break
            if op == 1:
                if n == 3 and buf[pos + hl:pos + hl + 3] == b"END":
                    self.end = True
                else:
                    self.frames += 1
                    if self.sample:
                        m = STAMP.search(buf, pos + hl, pos + hl + n)
                        if m:
                            self.stats["lat"].append((now - int(m.group(1))) / 1e6)
            pos += hl + n
        del buf[:pos]
        self.stats["last"] = time.perf_counter()


async def open_clients(port: int, path: str, n: int, sample_every: int, stats: dict) -> list[Client]:
    loop = asyncio.get_running_loop()
    out = []
    for i in range(0, n, 50):
        batch = []
        for j in range(i, min(n, i + 50)):
            _, c = await loop.create_connection(lambda j=j: Client(path, j % sample_every == 0, stats),
                                                "127.0.0.1", port)
            batch.append(c)
        await asyncio.gather(*(c.open for c in batch))
        out += batch
    return out


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


# -- raw websockets -------------------------------------------------------------------------

async def raw_run(n: int, m: int, rate: float, sample_every: int) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.ws_raw_server", str(port), str(n), str(m), str(rate), "1.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stdout.readline().strip() == b"READY"
        base = rss_kb(proc.pid)
        stats = {"lat": [], "last": 0.0}
        clients = await open_clients(port, "/", n, sample_every, stats)
        await asyncio.sleep(0.5)
        idle = rss_kb(proc.pid)
        start = time.perf_counter()
        deadline = start + 120
        while not all(c.end for c in clients) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        got = sum(c.frames for c in clients)
        elapsed = stats["last"] - start - 0.5   # the server waits 1.0 s after the last connect, we wait 0.5
        for c in clients:
            c.transport.close()
        return {"deliveries": got, "expected": n * m, "seconds": elapsed, "rate": got / elapsed,
                "p50": pct(stats["lat"], 0.5), "p99": pct(stats["lat"], 0.99),
                "kb_per_conn": (idle - base) / n}
    finally:
        proc.kill()
        proc.wait()


# -- ours ---------------------------------------------------------------------------------

class Ours:
    def __init__(self, n: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="hb-fanout-")
        self.port = free_port()
        self.proc = halobuzz_server(Path(self.dir) / "data", self.port, env={
            "HALOBUZZ_WS_MAX_PER_USER": str(n + 10), "HALOBUZZ_WS_MAX_PER_IP": str(n + 10),
            "HALOBUZZ_CHAT_RATE_USER": "1000000/1s", "HALOBUZZ_CHAT_RATE_ROOM": "1000000/1s",
            "HALOBUZZ_METRICS_INTERVAL": "3600", "HALOBUZZ_WS_SEND_QUEUE_BYTES": str(8 * 1024 * 1024)})
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def user(self, name: str) -> dict:
        r = self.http.post("/api/v1/auth/register", json={"email": f"{name}@b.x", "password": "benchmark-pass",
                                                          "username": name, "country": "NP", "birthDate": "1990-01-01"})
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.proc.stop()


async def ours_run(ours: Ours, n: int, m: int, rate: float, sample_every: int, seconds: float) -> dict:
    host, viewer = ours.user(f"host{time.time_ns() % 10**9}"), ours.user(f"view{time.time_ns() % 10**9}")
    hauth = {"Authorization": f"Bearer {host['accessToken']}"}
    sid = ours.http.post("/api/v1/streams", json={"title": "bench"}, headers=hauth).json()["id"]
    ours.http.post(f"/api/v1/streams/{sid}/start", headers=hauth).raise_for_status()
    pid = ours.proc.proc.pid
    base = rss_kb(pid)
    stats = {"lat": [], "last": 0.0}
    clients = await open_clients(ours.port, f"/ws?token={viewer['accessToken']}", n, sample_every, stats)
    join = json.dumps({"event": "stream:join", "data": {"streamId": sid}, "id": "j", "ts": None})
    for c in clients:
        c.send_text(join)
    await asyncio.sleep(1.0)
    idle = rss_kb(pid)
    drv = (await open_clients(ours.port, f"/ws?token={host['accessToken']}", 1, 10**9, {"lat": [], "last": 0}))[0]
    drv.send_text(join)
    await asyncio.sleep(0.3)
    for c in clients:
        c.frames = 0
    pad = "x" * 120

    def chat(i: int) -> None:
        drv.send_text(json.dumps({"event": "chat:new", "data": {"streamId": sid, "text": f"T{time.monotonic_ns()} {pad}"},
                                  "id": str(i), "ts": None}))

    # blast
    stats["lat"].clear()
    start = time.perf_counter()
    for i in range(m):
        chat(i)
        if i % 20 == 19:
            await asyncio.sleep(0)
    expected = n * m
    deadline = start + 120
    while sum(c.frames for c in clients) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    got = sum(c.frames for c in clients)
    blast = {"deliveries": got, "expected": expected, "seconds": stats["last"] - start,
             "rate": got / (stats["last"] - start), "p50": pct(stats["lat"], 0.5), "p99": pct(stats["lat"], 0.99),
             "kb_per_conn": (idle - base) / n}
    # paced chat
    await asyncio.sleep(1.0)
    stats["lat"].clear()
    for c in clients:
        c.frames = 0
    total = int(rate * seconds)
    t0 = time.perf_counter()
    for i in range(total):
        chat(m + i)
        await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - time.perf_counter()))
    await asyncio.sleep(1.0)
    paced = {"messages": total, "deliveries": sum(c.frames for c in clients), "expected": n * total,
             "p50": pct(stats["lat"], 0.5), "p99": pct(stats["lat"], 0.99)}
    for c in clients + [drv]:
        c.transport.close()
    ours.http.post(f"/api/v1/streams/{sid}/end", headers=hauth)
    return {"blast": blast, "paced": paced}


async def main(args) -> None:
    n, m = args.clients, args.messages
    sample = max(1, n // 50)
    ours = Ours(n)
    try:
        mine = await ours_run(ours, n, m, args.rate, sample, args.seconds)
    finally:
        ours.stop()
    raw_blast = await raw_run(n, m, 0, sample)
    raw_paced = await raw_run(n, int(args.rate * args.seconds), args.rate, sample)
    b, p = mine["blast"], mine["paced"]
    rows = [
        ("raw websockets.broadcast, blast", f"{raw_blast['rate']:,.0f} deliveries/s  p50 {raw_blast['p50']:.1f} ms  "
                                            f"p99 {raw_blast['p99']:.1f} ms  ({raw_blast['deliveries']:,}/{raw_blast['expected']:,})"),
        ("HaloBuzz /ws room, blast (chat:new)", f"{b['rate']:,.0f} deliveries/s  p50 {b['p50']:.1f} ms  "
                                              f"p99 {b['p99']:.1f} ms  ({b['deliveries']:,}/{b['expected']:,})"),
        (f"raw, paced {args.rate:g} msg/s", f"p50 {raw_paced['p50']:.1f} ms  p99 {raw_paced['p99']:.1f} ms"),
        (f"HaloBuzz, paced {args.rate:g} msg/s", f"p50 {p['p50']:.1f} ms  p99 {p['p99']:.1f} ms  "
                                                 f"({p['deliveries']:,}/{p['expected']:,})"),
        ("raw, memory per idle connection", f"{raw_blast['kb_per_conn']:.1f} KB"),
        ("HaloBuzz, memory per idle connection", f"{b['kb_per_conn']:.1f} KB (joined, authenticated)"),
    ]
    ratios = [f"fan-out ours/raw = {b['rate'] / raw_blast['rate']:.2f}x (target >= 0.8x)",
              f"chat p99 at {n} viewers, {args.rate:g} msg/s = {p['p99']:.1f} ms (target <= "
              f"{25 if n <= 1000 else 100} ms); ours/raw p99 = {p['p99'] / raw_paced['p99']:.2f}x",
              f"memory per idle connection ours/raw = {b['kb_per_conn'] / max(0.1, raw_blast['kb_per_conn']):.2f}x "
              f"({b['kb_per_conn']:.1f} KB, target <= 20 KB)"]
    table(f"Room fan-out, {n} viewers, {m} messages", rows, ratios)
    save(f"fanout_{n}", {"ours": mine, "raw_blast": raw_blast, "raw_paced": raw_paced})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=5)
    asyncio.run(main(ap.parse_args()))
