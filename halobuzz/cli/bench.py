"""`halobuzz bench`: a short run on the operator's machine that prints safe limits.

Two measurements, each against a raw baseline in the same run (docs: performance.md):
* gifts/s — gift-shaped write units (two balance updates + a ledger row) through the
  appliance's own group-commit writer with synchronous=FULL on a temporary database in the
  data directory's filesystem, vs raw sqlite3 batches of 100 per transaction;
* room fan-out — chat frames (~200 B) broadcast to N loopback websocket viewers, giving
  deliveries/s, from which "viewers per room at a chat rate" follows.

The "safe" figures keep half the measured capacity as headroom (HTTP parsing, auth,
moderation and the rest of the request path are not in these micro-runs). When the
project's full benchmarks are importable (a checkout: bench/writer.py, bench/rooms.py
exposing `quick(seconds) -> dict`), their numbers are shown too; a binary or a checkout
without them degrades to the built-in runs.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import click

from .common import data_dir_option, load_settings

HEADROOM = 0.5
CHAT_RATES = (1, 5, 20, 50)
GIFT_SCHEMA = """
CREATE TABLE wallet(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE ledger(id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER, ts REAL);
"""
ACCOUNTS = 10_000


def _prepare(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(GIFT_SCHEMA)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO wallet VALUES (?, 1000000)", ((i,) for i in range(ACCOUNTS)))
    conn.execute("COMMIT")
    conn.close()


def _gift(conn: sqlite3.Connection, a: int, b: int, amount: int) -> None:
    conn.execute("UPDATE wallet SET balance = balance - ? WHERE id = ?", (amount, a))
    conn.execute("UPDATE wallet SET balance = balance + ? WHERE id = ?", (amount, b))
    conn.execute("INSERT INTO ledger(src, dst, amount, ts) VALUES (?,?,?,?)", (a, b, amount, time.time()))


def raw_gifts(path: Path, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    rnd = random.Random(1)
    n, end = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(100):
            _gift(conn, rnd.randrange(ACCOUNTS), rnd.randrange(ACCOUNTS), rnd.randrange(1, 100))
        conn.execute("COMMIT")
        n += 100
    conn.close()
    return n / (time.perf_counter() - started)


def writer_gifts(path: Path, seconds: float, concurrency: int = 256) -> tuple[float, float]:
    """Gift units/s through db.writer.Writer (group commit, FULL), and p99 latency in ms."""
    from ..db.writer import Writer

    async def run() -> tuple[float, float]:
        w = Writer(path, synchronous="FULL")
        rnd = random.Random(2)
        lat: list[float] = []
        done = 0
        end = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < end:
                a, b, amt = rnd.randrange(ACCOUNTS), rnd.randrange(ACCOUNTS), rnd.randrange(1, 100)
                t0 = time.perf_counter()
                await w.write(lambda conn, a=a, b=b, amt=amt: _gift(conn, a, b, amt))
                lat.append(time.perf_counter() - t0)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        rate = done / (time.perf_counter() - started)
        w.close()
        lat.sort()
        return rate, (lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0.0)

    return asyncio.run(run())


def fanout(viewers: int, frames: int) -> float:
    """Deliveries/s broadcasting ~200 B frames to `viewers` loopback websocket clients."""
    import websockets
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def run() -> float:
        clients: set = set()
        ready = asyncio.Event()

        async def handler(ws):
            clients.add(ws)
            if len(clients) == viewers:
                ready.set()
            try:
                await ws.wait_closed()
            finally:
                clients.discard(ws)

        async with serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None) as server:
            port = (
                server.sockets[0].getsockname()[1]
                if hasattr(server, "sockets")
                else list(server.server.sockets)[0].getsockname()[1]
            )
            received = 0
            all_done = asyncio.Event()

            async def viewer() -> None:
                nonlocal received
                async with connect(
                    f"ws://127.0.0.1:{port}", compression=None, ping_interval=None, max_queue=None
                ) as ws:
                    got = 0
                    async for _ in ws:
                        got += 1
                        received += 1
                        if got == frames:
                            break
                    if received == viewers * frames:
                        all_done.set()

            tasks = [asyncio.create_task(viewer()) for _ in range(viewers)]
            await asyncio.wait_for(ready.wait(), 30)
            msg = json.dumps({"event": "chat:new", "data": {"user": "viewer_1234", "text": "x" * 120}, "id": 1})
            started = time.perf_counter()
            for i in range(frames):
                websockets.broadcast(clients, msg)
                if i % 10 == 9:
                    await asyncio.sleep(0)
            await asyncio.wait_for(all_done.wait(), 120)
            elapsed = time.perf_counter() - started
            await asyncio.gather(*tasks, return_exceptions=True)
            return viewers * frames / elapsed

    return asyncio.run(run())


def _project_bench(name: str, seconds: float) -> dict | None:
    """bench.<name>.quick(seconds) from a checkout, if there is one; never raises."""
    try:
        mod = importlib.import_module(f"bench.{name}")
    except Exception:
        return None
    fn = getattr(mod, "quick", None)
    if not callable(fn):
        return None
    try:
        out = fn(seconds)
        return out if isinstance(out, dict) else {"result": out}
    except Exception as exc:
        return {"error": str(exc)}


@click.command()
@data_dir_option
@click.option("--seconds", type=click.FloatRange(0.5, 60), default=3.0, show_default=True, help="Time per measurement")
@click.option(
    "--viewers",
    type=click.IntRange(10, 5000),
    default=300,
    show_default=True,
    help="Websocket viewers in the fan-out run",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON")
@click.option(
    "--video",
    is_flag=True,
    help="Also measure the built-in video path: CPU per RTMP ingest and "
    "HLS viewers held (needs ffmpeg; starts a temporary server; ~1 minute)",
)
@click.option(
    "--ingests", type=click.IntRange(1, 64), default=4, show_default=True, help="Concurrent ingests in the video run"
)
@click.option(
    "--uplink-mbps",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="This machine's uplink, for the HLS viewer limit (each viewer takes the stream's bitrate)",
)
def bench(data_dir, seconds, viewers, as_json, video, ingests, uplink_mbps):
    """Measure this machine and print safe limits: gifts/s and viewers per room at a
    chat rate. Takes about 4x --seconds; runs on a temporary database next to the data
    directory (same disk) and loopback websockets, and changes nothing.

    \b
    Example:
      halobuzz bench --data-dir /var/lib/halobuzz
    """
    settings = load_settings(data_dir)
    base = settings.data_dir if settings.data_dir.is_dir() else Path(tempfile.gettempdir())
    res: dict = {"cpu_count": os.cpu_count(), "seconds": seconds}
    with tempfile.TemporaryDirectory(prefix=".halobuzz-bench-", dir=base) as tmp:
        raw_db, our_db = Path(tmp) / "raw.db", Path(tmp) / "ours.db"
        _prepare(raw_db)
        _prepare(our_db)
        click.echo("measuring gifts (raw sqlite3 baseline, then the group-commit writer) ...", err=True)
        res["raw_gifts_per_s"] = round(raw_gifts(raw_db, seconds))
        rate, p99 = writer_gifts(our_db, seconds)
        res["writer_gifts_per_s"], res["writer_p99_ms"] = round(rate), round(p99, 2)
    click.echo(f"measuring room fan-out ({viewers} viewers) ...", err=True)
    frames = max(20, int(seconds * 60000 / viewers))
    try:
        res["deliveries_per_s"] = round(fanout(viewers, frames))
    except Exception as exc:  # e.g. too few file descriptors for the viewers asked
        res["deliveries_per_s"] = None
        res["fanout_error"] = str(exc)
    for name in ("writer", "rooms"):
        found = _project_bench(name, seconds)
        if found is not None:
            res[f"bench.{name}"] = found
    if video:
        from . import bench_video

        click.echo(f"measuring the video path ({ingests} ingests, then HLS viewers) ...", err=True)
        try:
            res["video"] = bench_video.run(base, max(seconds, 3.0), ingests, (20, 50, 100, 200), uplink_mbps)
        except Exception as exc:
            res["video"] = {"error": str(exc)}
    res["safe_gifts_per_s"] = int(res["writer_gifts_per_s"] * HEADROOM)
    if res["deliveries_per_s"]:
        res["safe_viewers_per_room"] = {f"{r}/s": int(res["deliveries_per_s"] * HEADROOM / r) for r in CHAT_RATES}
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    ratio = res["writer_gifts_per_s"] / max(res["raw_gifts_per_s"], 1)
    click.echo(f"\nHaloBuzz bench ({res['cpu_count']} CPUs, {seconds:g}s per run)")
    click.echo(f"  gifts, raw sqlite3 100/txn FULL      {res['raw_gifts_per_s']:>10,}/s")
    click.echo(
        f"  gifts, group-commit writer FULL      {res['writer_gifts_per_s']:>10,}/s"
        f"  ({ratio:.2f}x raw, p99 {res['writer_p99_ms']} ms)"
    )
    if res["deliveries_per_s"]:
        click.echo(f"  chat deliveries ({viewers} viewers)      {res['deliveries_per_s']:>10,}/s")
    else:
        click.echo(f"  chat fan-out: not measured ({res.get('fanout_error')})")
    for name in ("writer", "rooms"):
        if f"bench.{name}" in res:
            click.echo(f"  bench/{name}.py: {json.dumps(res[f'bench.{name}'])[:200]}")
    click.echo("\nSafe limits (half the measured capacity; the API path adds HTTP, auth, moderation):")
    click.echo(f"  gifts/s through the storage layer     {res['safe_gifts_per_s']:>10,}")
    for rate_label, n in (res.get("safe_viewers_per_room") or {}).items():
        click.echo(f"  viewers in one room at {rate_label:>5} chat     {n:>10,}")
    click.echo(
        "  (sum over rooms: viewers x messages/s should stay under "
        f"{int((res['deliveries_per_s'] or 0) * HEADROOM):,} deliveries/s)"
    )
    if video:
        _print_video(res["video"])


def _print_video(v: dict) -> None:
    if "error" in v:
        click.echo(f"\nVideo path: not measured ({v['error']})")
        return
    click.echo(f"\nVideo path ({v['engine'][:40]}):")
    click.echo(
        f"  CPU per RTMP ingest (720p 3 Mb/s, copy)  {v['cpu_per_ingest'] * 100:>8.1f} % of a core"
        f"  ({v['ingest_vs_raw']}x raw ffmpeg remux from a file)"
    )
    for step in v["hls"]["steps"]:
        click.echo(
            f"  {step['viewers']:>5} HLS viewers: playlist p95 {step['p95_ms']:>7} ms, {step['errors']} errors, "
            f"{step['mbit_per_s']} Mb/s out, server CPU {step['server_cpu'] * 100:.0f} %, "
            f"live edge {step['edge_ms']} ms"
        )
    click.echo(f"  safe concurrent ingests                  {v['safe_ingests']:>8}")
    h = v["hls"]
    click.echo(
        f"  HLS viewers held in-run: {h['viewers_held']} (the simulated viewers share this machine: a floor); "
        f"server CPU {(h['server_cpu_per_viewer'] or 0) * 100:.2f} % of a core and "
        f"{h['mbit_per_viewer']} Mb/s each"
    )
    click.echo(
        f"  safe HLS viewers (all streams together)  {v['safe_hls_viewers']:>8}"
        f"  (CPU allows {v['safe_hls_viewers_cpu']:,}, a {v['uplink_mbps']} Mb/s uplink "
        f"{v['safe_hls_viewers_uplink']:,}; past this, use a CDN in front, or Agora)"
    )
    click.echo(f"  ingest clock lag (add to player-measured latency) <= {h['pdt_lag_s']} s")
