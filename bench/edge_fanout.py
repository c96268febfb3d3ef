"""Edge fan-out: one room's viewers on the origin alone vs spread over origin + 2 edge processes.

    python -m bench.edge_fanout [--viewers 300] [--rate 20] [--seconds 5]

Same run, same machine: a real nats-server (JetStream on), one shard appliance (origin,
shard_edges on) and two `halobuzz serve --edge --shard np` processes, all on loopback.
1. baseline: all viewers connected to the origin; the host (on the origin) sends RATE chat
   messages/s for SECONDS; latency = host's send -> each viewer's receipt.
2. edges: the same viewers split in thirds over origin, edge 1 and edge 2; same chat.
Reports p50/p99 per placement and the edge hop: p99(edge viewers) - p99(origin viewers) in
the same run (target: <= 10 ms on loopback). Viewers are Python websockets clients in this
process, so absolute numbers include their parsing; the difference between placements does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from .harness import Proc, free_port, halobuzz_server, save, table

ROOT = Path(__file__).parent.parent


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def _cli(*args: str, cwd: Path) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "halobuzz", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "HALOBUZZ_BCRYPT_ROUNDS": "4"},
        check=True,
    )
    return r.stdout


def _register(url: str, name: str) -> dict:
    r = httpx.post(
        url + "/api/v1/auth/register",
        json={
            "email": f"{name}@bench.io",
            "username": name,
            "password": "correct horse battery",
            "country": "NP",
            "birthDate": "1990-01-01",
        },
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


class Viewer:
    def __init__(self, ws, where: str) -> None:
        self.ws, self.where, self.latencies = ws, where, []

    async def read(self, sent: dict[str, float]) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg["event"] == "chat:new":
                    t0 = sent.get(msg["data"]["text"])
                    if t0 is not None:
                        self.latencies.append((time.perf_counter() - t0) * 1000)
        except Exception:  # noqa: BLE001 - closed at the end
            pass


async def _open(port: int, token: str, sid: str, where: str) -> Viewer:
    ws = await connect(f"ws://127.0.0.1:{port}/ws?token={token}", open_timeout=20, max_queue=None)
    while json.loads(await ws.recv())["event"] != "ready":
        pass
    await ws.send(json.dumps({"event": "stream:join", "data": {"streamId": sid}, "id": "j"}))
    while json.loads(await ws.recv())["event"] != "stream:state":
        pass
    return Viewer(ws, where)


async def _scenario(
    ports: list[tuple[str, int]],
    tokens: list[str],
    host_token: str,
    origin: int,
    sid: str,
    viewers: int,
    rate: float,
    seconds: float,
) -> dict[str, list[float]]:
    opened = [
        await _open(ports[i % len(ports)][1], tokens[i % len(tokens)], sid, ports[i % len(ports)][0])
        for i in range(viewers)
    ]
    host = await connect(f"ws://127.0.0.1:{origin}/ws?token={host_token}", open_timeout=20)
    while json.loads(await host.recv())["event"] != "ready":
        pass
    await host.send(json.dumps({"event": "stream:join", "data": {"streamId": sid}, "id": "h"}))
    sent: dict[str, float] = {}
    readers = [asyncio.create_task(v.read(sent)) for v in opened]
    drain = asyncio.create_task(_discard(host))
    await asyncio.sleep(0.5)
    n = int(rate * seconds)
    for i in range(n):
        text = f"m{time.perf_counter_ns()}-{i}"
        sent[text] = time.perf_counter()
        await host.send(json.dumps({"event": "chat:new", "data": {"streamId": sid, "text": text}, "id": f"c{i}"}))
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(2.0)
    for v in opened:
        await v.ws.close()
    await host.close()
    for t in (*readers, drain):
        t.cancel()
    out: dict[str, list[float]] = {}
    for v in opened:
        out.setdefault(v.where, []).extend(v.latencies)
    out["_expected"] = [float(n * viewers)]
    return out


async def _discard(ws) -> None:
    try:
        async for _ in ws:
            pass
    except Exception:  # noqa: BLE001
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=300)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support.natsd import NatsServer

    tmp = Path(tempfile.mkdtemp(prefix="hb-edge-bench-"))
    nats = NatsServer(tmp / "nats").start()
    procs: list[Proc] = []
    try:
        origin_port = free_port()
        operator = _cli("shards", "init", "--map", "shards.json", "--operator-key", "op.pem", cwd=tmp).split()[-1]
        key = _cli("shards", "pubkey", "--data-dir", str(tmp / "np"), cwd=tmp).strip()
        _cli(
            "shards",
            "add",
            "np",
            "--countries",
            "NP",
            "--url",
            f"http://127.0.0.1:{origin_port}",
            "--public-key",
            key,
            "--map",
            "shards.json",
            cwd=tmp,
        )
        _cli("shards", "sign", "--map", "shards.json", "--operator-key", "op.pem", cwd=tmp)
        env = {
            "HALOBUZZ_SHARD_ID": "np",
            "HALOBUZZ_SHARD_MAP": str(tmp / "shards.json"),
            "HALOBUZZ_SHARD_OPERATOR_KEY": operator,
            "HALOBUZZ_NATS_URL": nats.url,
            "HALOBUZZ_SHARD_EDGES": "1",
            "HALOBUZZ_WS_MAX_PER_USER": "100000",
            "HALOBUZZ_WS_MAX_PER_IP": "100000",
            "HALOBUZZ_CHAT_RATE_USER": "100000/1s",
            "HALOBUZZ_CHAT_RATE_ROOM": "100000/1s",
            "HALOBUZZ_SYNCHRONOUS": "NORMAL",
        }
        procs.append(halobuzz_server(tmp / "np", origin_port, env))
        edges = []
        for i in (1, 2):
            port = free_port()
            procs.append(
                Proc(
                    [
                        sys.executable,
                        "-m",
                        "halobuzz",
                        "serve",
                        "--edge",
                        "--shard",
                        "np",
                        "--port",
                        str(port),
                        "--data-dir",
                        str(tmp / f"edge{i}"),
                    ],
                    env={"HALOBUZZ_LOG_LEVEL": "warning", **env},
                    health=f"http://127.0.0.1:{port}/healthz",
                )
            )
            edges.append(port)
        time.sleep(1.0)  # edges connect to NATS after their health route is up
        url = f"http://127.0.0.1:{origin_port}"
        host = _register(url, "benchhost")
        tokens = [_register(url, f"benchv{i}")["accessToken"] for i in range(5)]
        h = {"Authorization": f"Bearer {host['accessToken']}"}
        sid = httpx.post(url + "/api/v1/streams", json={"title": "bench"}, headers=h).json()["id"]
        httpx.post(url + f"/api/v1/streams/{sid}/start", headers=h).raise_for_status()
        base = asyncio.run(
            _scenario(
                [("origin", origin_port)],
                tokens,
                host["accessToken"],
                origin_port,
                sid,
                args.viewers,
                args.rate,
                args.seconds,
            )
        )
        spread = asyncio.run(
            _scenario(
                [("origin", origin_port), ("edge1", edges[0]), ("edge2", edges[1])],
                tokens,
                host["accessToken"],
                origin_port,
                sid,
                args.viewers,
                args.rate,
                args.seconds,
            )
        )
    finally:
        for p in reversed(procs):
            p.stop()
        nats.stop()
    rows, result = [], {}
    for name, data in (("origin alone", base), ("origin + 2 edges", spread)):
        expected = data.pop("_expected")[0]
        got = sum(len(v) for v in data.values())
        for where, lat in sorted(data.items()):
            rows.append(
                (
                    f"{name}: {where} viewers",
                    f"p50 {pct(lat, 0.5):7.2f} ms  p99 {pct(lat, 0.99):7.2f} ms  ({len(lat)} deliveries)",
                )
            )
            result[f"{name}/{where}"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat)}
        rows.append((f"{name}: delivered", f"{got}/{int(expected)}"))
    edge_lat = spread.get("edge1", []) + spread.get("edge2", [])
    hop = pct(edge_lat, 0.99) - pct(spread.get("origin", []), 0.99)
    vs_alone = pct(edge_lat, 0.99) - pct(base.get("origin", []), 0.99)
    lines = [
        f"edge hop, same run: p99 edge viewers - p99 origin viewers = {hop:+.2f} ms (target <= 10 ms)",
        f"p99 edge viewers - p99 with every viewer on the origin = {vs_alone:+.2f} ms",
    ]
    table(f"edge fan-out: {args.viewers} viewers, {args.rate}/s chat for {args.seconds}s", rows, lines)
    save(
        "edge_fanout",
        {"args": vars(args), "results": result, "edge_hop_p99_ms": hop, "edge_vs_origin_alone_p99_ms": vs_alone},
    )


if __name__ == "__main__":
    main()
