"""Socket.IO fan-out vs /ws fan-out, same server, same run.

    python -m bench.sio_fanout [--clients 300] [--messages 200] [--runs 3] [--client-procs 1]

One HaloBuzz server per repetition, two live streams: N /ws viewers join one, N Socket.IO viewers
(websocket transport) the other. By default both kinds are the same raw Node load client
(bench/fanout_client.js: counts frames, parses nothing), so the ratio is the server's; with
--npm-client the Socket.IO viewers are real npm socket.io-client sockets
(bench/sio_fanout_client.js), which also measures that client's parsing. The host blasts M chat messages over /ws into each room
in turn (persisted, rate-checked, moderated, fanned out by the same hub). Reported per kind:
deliveries/s (first send → last delivery) and p50/p99 end-to-end latency; the ratio is
Socket.IO / /ws (median of per-run ratios; the target is ≥ 0.5×: Socket.IO frames each event
separately and the npm client parses more).
With --npm-client, socket.io-client is installed once into ~/.cache/halobuzz-bench (npm).
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

from .fanout import Driver, Viewers, now_ms, pct
from .harness import Proc, free_port, save, table

HERE = Path(__file__).parent
SIO_JS = HERE / "sio_fanout_client.js"
NPM_DIR = Path.home() / ".cache" / "halobuzz-bench"


def node_modules() -> Path:
    mods = NPM_DIR / "node_modules"
    if not (mods / "socket.io-client").is_dir():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NPM_DIR),
                "--no-audit",
                "--no-fund",
                "--silent",
                "socket.io-client@^4.8",
            ],
            check=True,
        )
    return mods


class SioViewers(Viewers):
    @classmethod
    async def open_sio(cls, port: int, token: str, stream: str, n: int, sample_every: int, k: int) -> "SioViewers":
        env = {**os.environ, "NODE_PATH": str(node_modules())}
        procs = []
        for count in [n // k + (1 if i < n % k else 0) for i in range(k)]:
            procs.append(
                await asyncio.create_subprocess_exec(
                    "node",
                    str(SIO_JS),
                    str(port),
                    token,
                    stream,
                    str(count),
                    str(sample_every),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                    limit=256 * 1024 * 1024,
                )
            )
        for pr in procs:
            line = (await asyncio.wait_for(pr.stdout.readline(), 180)).decode().strip()
            if line != "READY":
                raise RuntimeError(f"socket.io load client failed: {line}")
        return cls(procs)


def start_server(n: int) -> tuple[Proc, int, str]:
    data = Path(tempfile.mkdtemp(prefix="hb-sio-")) / "data"
    port = free_port()
    env = {
        "HALOBUZZ_RATE_LIMIT_DEFAULT": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_AUTH": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_USER": "100000000/1m",
        "HALOBUZZ_LOG_LEVEL": "warning",
        "HALOBUZZ_BCRYPT_ROUNDS": "4",
        "HALOBUZZ_ACCESS_LOG": "0",
        "HALOBUZZ_WS_MAX_PER_USER": str(2 * n + 10),
        "HALOBUZZ_WS_MAX_PER_IP": str(2 * n + 10),
        "HALOBUZZ_CHAT_RATE_USER": "1000000/1s",
        "HALOBUZZ_CHAT_RATE_ROOM": "1000000/1s",
        "HALOBUZZ_METRICS_INTERVAL": "3600",
        "HALOBUZZ_WS_PING_INTERVAL": "600",
        "HALOBUZZ_WS_SEND_QUEUE_BYTES": str(8 * 1024 * 1024),
    }
    proc = Proc(
        [sys.executable, "-m", "halobuzz", "serve", "--port", str(port), "--data-dir", str(data)],
        env=env,
        health=f"http://127.0.0.1:{port}/healthz",
    )
    return proc, port, f"http://127.0.0.1:{port}"


async def blast(port: int, host_token: str, stream: str, viewers: Viewers, n: int, m: int, tag: str) -> dict:
    loop = asyncio.get_running_loop()
    _, drv = await loop.create_connection(lambda: Driver(f"/ws?token={host_token}"), "127.0.0.1", port)
    await drv.opened
    drv.send_text(json.dumps({"event": "stream:join", "data": {"streamId": stream}, "id": "j", "ts": None}))
    await asyncio.sleep(0.5)
    await viewers.reset()
    pad = "x" * 120
    start = now_ms()
    for i in range(m):
        drv.send_text(
            json.dumps(
                {
                    "event": "chat:new",
                    "data": {"streamId": stream, "text": f"T{time.monotonic_ns()} {pad}"},
                    "id": f"{tag}{i}",
                    "ts": None,
                }
            )
        )
        if i % 20 == 19:
            await asyncio.sleep(0)
    st = await viewers.wait_frames(n * m, 180, quiet=3.0)
    drv.transport.close()
    secs = (st["last"] - start) / 1000
    return {
        "deliveries": st["frames"],
        "expected": n * m,
        "seconds": secs,
        "rate": st["frames"] / secs,
        "p50": pct(st["lat"], 0.5),
        "p99": pct(st["lat"], 0.99),
        "closed": st["closed"],
    }


async def one_run(n: int, m: int, sample_every: int, k: int, npm: bool) -> dict:
    proc, port, url = start_server(n)
    ws_viewers = sio_viewers = None
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            tag = time.time_ns() % 10**9

            def user(name):
                r = http.post(
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

            hosts, viewer = [user(f"h{tag}"), user(f"g{tag}")], user(f"v{tag}")
            rooms = []
            for host, title in zip(hosts, ("ws", "sio")):
                auth = {"Authorization": f"Bearer {host['accessToken']}"}
                sid = http.post("/api/v1/streams", json={"title": title}, headers=auth).json()["id"]
                http.post(f"/api/v1/streams/{sid}/start", headers=auth).raise_for_status()
                rooms.append(sid)
        join = json.dumps({"event": "stream:join", "data": {"streamId": rooms[0]}, "id": "j", "ts": None})
        ws_viewers = await Viewers.open(port, f"/ws?token={viewer['accessToken']}", n, sample_every, k, join)
        if npm:
            sio_viewers = await SioViewers.open_sio(port, viewer["accessToken"], rooms[1], n, sample_every, k)
        else:
            # The same raw load client as /ws's: Engine.IO/Socket.IO CONNECT with the token, then the join.
            frames = (
                "40"
                + json.dumps({"token": viewer["accessToken"]})
                + "\n"
                + "42"
                + json.dumps(["stream:join", {"streamId": rooms[1]}])
            )
            sio_viewers = await Viewers.open(port, "/socket.io/?EIO=4&transport=websocket", n, sample_every, k, frames)
        await asyncio.sleep(1.0)
        ws = await blast(port, hosts[0]["accessToken"], rooms[0], ws_viewers, n, m, "w")
        await asyncio.sleep(1.0)
        sio = await blast(port, hosts[1]["accessToken"], rooms[1], sio_viewers, n, m, "s")
        return {"ws": ws, "sio": sio}
    finally:
        for v in (ws_viewers, sio_viewers):
            if v:
                await v.close()
        proc.stop()


async def main(args) -> None:
    runs = []
    for r in range(args.runs):
        res = await one_run(args.clients, args.messages, max(1, args.clients // 50), args.client_procs, args.npm_client)
        runs.append(res)
        print(
            f"run {r + 1}: /ws {res['ws']['rate']:.0f}/s p99 {res['ws']['p99']:.1f} ms · "
            f"socket.io {res['sio']['rate']:.0f}/s p99 {res['sio']['p99']:.1f} ms · "
            f"delivered {res['ws']['deliveries']}/{res['ws']['expected']} and "
            f"{res['sio']['deliveries']}/{res['sio']['expected']}",
            flush=True,
        )
    med = statistics.median
    ratio = med([r["sio"]["rate"] / r["ws"]["rate"] for r in runs])
    rows = [
        (
            f"/ws deliveries/s ({args.clients} viewers × {args.messages} msgs)",
            f"{med([r['ws']['rate'] for r in runs]):,.0f}",
        ),
        ("socket.io deliveries/s", f"{med([r['sio']['rate'] for r in runs]):,.0f}"),
        ("/ws p50 / p99 ms", f"{med([r['ws']['p50'] for r in runs]):.1f} / {med([r['ws']['p99'] for r in runs]):.1f}"),
        (
            "socket.io p50 / p99 ms",
            f"{med([r['sio']['p50'] for r in runs]):.1f} / {med([r['sio']['p99'] for r in runs]):.1f}",
        ),
    ]
    table(
        "Socket.IO vs /ws fan-out (same server, same run)",
        rows,
        [f"socket.io / ws deliveries/s = {ratio:.2f}x (target >= 0.5x)"],
    )
    save("sio_fanout", {"args": vars(args), "runs": runs, "ratio": ratio})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--client-procs", type=int, default=1)
    ap.add_argument(
        "--npm-client",
        action="store_true",
        help="Socket.IO viewers are npm socket.io-client sockets (parses every event) instead of "
        "the raw frame-counting client both kinds use by default",
    )
    asyncio.run(main(ap.parse_args()))
