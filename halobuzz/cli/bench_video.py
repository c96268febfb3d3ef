"""`halobuzz bench --video`: what the built-in video path holds on this machine.

* ingests — K RTMP publishers (a pre-encoded 720p clip pushed with `-c copy`, so publishers
  cost little) into K ingest children run by the appliance's own supervisor; CPU per ingest
  from /proc, against a raw baseline in the same run: ffmpeg remuxing the same clip from a
  file to HLS (no RTMP, no supervisor);
* HLS viewers — a real `halobuzz serve` (media_provider = hls) with one live stream, and
  simulated viewers that poll the live playlist every segment and fetch each new segment,
  ramped until the 95th-percentile playlist fetch passes 1 s or requests fail. Viewers run
  on the same machine as the server, so the figure is a floor;
* live edge on loopback — at each playlist fetch, now minus the end of the newest segment
  (its EXT-X-PROGRAM-DATE-TIME, the ingest's wall clock at receipt, plus its duration); a
  player sits `liveSyncDurationCount` (2) segments behind that edge, so glass-to-glass is
  about edge + 2 segments + the encoder's own delay. The browser test reads the real figure
  (hls.js `playingDate` against the clock) from the console's video element.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADROOM = 0.5
CLIP_SECONDS = 4


def _ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _ticks()
    except (OSError, IndexError, ValueError):
        return 0.0


def make_clip(ffmpeg: str, path: Path) -> None:
    """A 720p30 H.264/AAC clip at ~3 Mb/s with 1 s keyframes (what OBS sends by default, roughly)."""
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "3M",
            "-maxrate",
            "3M",
            "-bufsize",
            "3M",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-t",
            str(CLIP_SECONDS),
            "-f",
            "flv",
            str(path),
        ],
        check=True,
        timeout=120,
    )


def publisher(ffmpeg: str, clip: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
            "-c",
            "copy",
            "-f",
            "flv",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def raw_remux_cpu(ffmpeg: str, clip: Path, out: Path, seconds: float) -> float:
    """CPU share (of one core) of ffmpeg remuxing the clip in real time from a file to HLS."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_list_size",
            "6",
            "-hls_flags",
            "delete_segments",
            str(out / "raw.m3u8"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    c0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    proc.kill()
    proc.wait()
    return (c1 - c0) / (t1 - t0)


def ingest_cpu(ffmpeg: str, clip: Path, root: Path, count: int, seconds: float) -> dict:
    """K supervised ingests with K copy publishers; CPU share per ingest child."""
    from ..media.ingest import IngestChild, IngestSpec
    from ..media.service import MediaConfig  # noqa: F401  (same defaults as serve)

    async def run() -> dict:
        children, pubs = [], []
        for i in range(count):
            port = _free_port()
            spec = IngestSpec(f"bench{i}", f"key{i}", port, "127.0.0.1", root / f"bench{i}", keep_segments=False)
            child = IngestChild(ffmpeg, spec, admit=lambda _sid: True)
            child.start()
            children.append(child)
        for child in children:
            await child.wait_listening()
            pubs.append(publisher(ffmpeg, clip, f"rtmp://127.0.0.1:{child.spec.port}/live/{child.spec.key}"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(c.publishing for c in children):
            await asyncio.sleep(0.1)
        publishing = sum(c.publishing for c in children)
        await asyncio.sleep(1.0)
        pids = [c.proc.pid for c in children if c.proc]
        c0, t0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
        pub0 = sum(cpu_seconds(p.pid) for p in pubs)
        await asyncio.sleep(seconds)
        c1, t1 = sum(cpu_seconds(p) for p in pids), time.monotonic()
        pub1 = sum(cpu_seconds(p.pid) for p in pubs)
        for p in pubs:
            p.kill()
        await asyncio.gather(*(c.stop() for c in children))
        for p in pubs:
            p.wait()
        return {
            "ingests": count,
            "publishing": publishing,
            "cpu_per_ingest": round((c1 - c0) / (t1 - t0) / max(len(pids), 1), 4),
            "cpu_per_publisher": round((pub1 - pub0) / (t1 - t0) / max(len(pubs), 1), 4),
        }

    return asyncio.run(run())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_cmd() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "serve"]
    return [sys.executable, "-m", "halobuzz", "serve"]


def hls_viewers(ffmpeg: str, clip: Path, data: Path, seconds: float, steps: tuple[int, ...]) -> dict:
    """Ramp simulated HLS viewers against a real server until playlist p95 > 1 s or errors."""
    import httpx

    port, rtmp = _free_port(), _free_port()
    env = {
        **os.environ,
        "HALOBUZZ_MEDIA_PROVIDER": "hls",
        "HALOBUZZ_MEDIA_RTMP_PORT": str(rtmp),
        "HALOBUZZ_MEDIA_SAMPLE_SECONDS": "0",
        "HALOBUZZ_MEDIA_REPLAY_DAYS": "0",
        "HALOBUZZ_LOG_LEVEL": "warning",
        "HALOBUZZ_ACCESS_LOG": "0",
        "HALOBUZZ_BCRYPT_ROUNDS": "4",
        "HALOBUZZ_RATE_LIMIT_DEFAULT": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_AUTH": "100000000/1m",
        "HALOBUZZ_RATE_LIMIT_USER": "100000000/1m",
    }
    server = subprocess.Popen(
        [*_serve_cmd(), "--port", str(port), "--data-dir", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    pub = None
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            _wait(lambda: _alive(server) and c.get("/healthz").status_code == 200, 90)
            body = {
                "email": "bench@bench.invalid",
                "password": "bench password 1",
                "username": "benchhost",
                "country": "NP",
                "birthDate": "1990-01-01",
            }
            auth = {"Authorization": "Bearer " + c.post("/api/v1/auth/register", json=body).json()["accessToken"]}
            sid = c.post("/api/v1/streams", json={"title": "bench"}, headers=auth).json()["id"]
            media = c.post(f"/api/v1/streams/{sid}/start", headers=auth).json()["media"]
            launched = time.time()
            pub = publisher(ffmpeg, clip, media["publishUrl"])
            url = media["playbackUrl"]
            _wait(lambda: c.get(url).status_code == 200, 20)
            # How late the ingest's clock stamps the first frame (probing + publisher start-up;
            # an upper bound): add it to a PDT-based latency for glass-to-glass.
            first = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", c.get(url).text).group(1)
            pdt_lag = _parse_pdt(first) - launched
        results = []
        for n in steps:
            c0, t0 = cpu_seconds(server.pid), time.monotonic()
            r = asyncio.run(_viewers(base, url, n, seconds))
            r["server_cpu"] = round((cpu_seconds(server.pid) - c0) / (time.monotonic() - t0), 3)
            results.append(r)
            if r["errors"] > 0.01 * max(r["requests"], 1) or r["p95_ms"] > 1000:
                break
        good = [r for r in results if r["errors"] <= 0.01 * max(r["requests"], 1) and r["p95_ms"] <= 1000]
        best = max(good, key=lambda r: r["viewers"]) if good else None
        return {
            "steps": results,
            "viewers_held": best["viewers"] if best else 0,
            "server_cpu_per_viewer": round(best["server_cpu"] / best["viewers"], 5) if best else None,
            "mbit_per_viewer": round(best["mbit_per_s"] / best["viewers"], 2) if best else None,
            "pdt_lag_s": round(pdt_lag, 3),
        }
    finally:
        if pub is not None:
            pub.kill()
            pub.wait()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


async def _viewers(base: str, url: str, n: int, seconds: float) -> dict:
    import httpx

    lat: list[float] = []
    edge: list[float] = []
    errors = requests = 0
    bytes_in = 0
    limits = httpx.Limits(max_connections=min(n, 200), max_keepalive_connections=min(n, 200))
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        end = time.monotonic() + seconds

        async def viewer(offset: float) -> None:
            nonlocal errors, requests, bytes_in
            await asyncio.sleep(offset)
            seen = set()
            while time.monotonic() < end:
                t0 = time.monotonic()
                try:
                    r = await client.get(url)
                    requests += 1
                    lat.append(time.monotonic() - t0)
                    if r.status_code != 200:
                        errors += 1
                    else:
                        edge.append(edge_seconds(r.text, time.time()))
                        for name in re.findall(r"^(\S+\.ts)$", r.text, re.M)[-1:]:
                            if name not in seen:
                                seen.add(name)
                                s = await client.get(url.rsplit("/", 1)[0] + "/" + name)
                                requests += 1
                                bytes_in += len(s.content)
                                if s.status_code != 200:
                                    errors += 1
                except httpx.HTTPError:
                    errors += 1
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))

        await asyncio.gather(*(viewer(i / n) for i in range(n)))
    lat.sort()
    p95 = lat[int(0.95 * (len(lat) - 1))] * 1000 if lat else 0.0
    return {
        "viewers": n,
        "requests": requests,
        "errors": errors,
        "p95_ms": round(p95, 1),
        "median_ms": round(statistics.median(lat) * 1000, 1) if lat else 0.0,
        "mbit_per_s": round(bytes_in * 8 / seconds / 1e6, 1),
        "edge_ms": round(statistics.median(edge) * 1000) if edge else None,
    }


def edge_seconds(playlist: str, now: float) -> float:
    """Now minus the end of the newest segment (program date time + duration)."""
    stamps = re.findall(r"#EXTINF:([\d.]+),\s*#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist)
    if not stamps:
        return 0.0
    dur, at = stamps[-1]
    return now - (_parse_pdt(at) + float(dur))


def _parse_pdt(text: str) -> float:
    from datetime import datetime

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _alive(server: subprocess.Popen) -> bool:
    if server.poll() is not None:
        raise RuntimeError(
            f"the bench server exited with status {server.returncode} "
            "(is media_provider = hls wired and ffmpeg installed?)"
        )
    return True


def _wait(pred, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except RuntimeError:
            raise
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for the bench server")


def run(base: Path, seconds: float, ingests: int, steps: tuple[int, ...], uplink_mbps: int = 1000) -> dict:
    from ..media.engine import describe, ffmpeg_binary

    ffmpeg = ffmpeg_binary()
    out: dict = {"engine": describe(ffmpeg).version}
    with tempfile.TemporaryDirectory(prefix=".halobuzz-bench-video-", dir=base) as tmp:
        root = Path(tmp)
        clip = root / "clip.flv"
        make_clip(ffmpeg, clip)
        raw = raw_remux_cpu(ffmpeg, clip, root / "raw", seconds)
        ing = ingest_cpu(ffmpeg, clip, root / "ingest", ingests, seconds)
        cores = os.cpu_count() or 1
        out.update(
            {
                "raw_remux_cpu": round(raw, 4),
                **ing,
                "ingest_vs_raw": round(ing["cpu_per_ingest"] / raw, 2) if raw > 0 else None,
                "safe_ingests": int(cores * HEADROOM / max(ing["cpu_per_ingest"], 1e-4)),
            }
        )
        hls = out["hls"] = hls_viewers(ffmpeg, clip, root / "serve", seconds, steps)
        # Viewers cost the server CPU (measured) and uplink (bitrate each): the smaller limit counts.
        by_cpu = int(cores * HEADROOM / hls["server_cpu_per_viewer"]) if hls["server_cpu_per_viewer"] else 0
        by_uplink = int(uplink_mbps * HEADROOM / hls["mbit_per_viewer"]) if hls["mbit_per_viewer"] else 0
        out.update(
            {
                "safe_hls_viewers_cpu": by_cpu,
                "safe_hls_viewers_uplink": by_uplink,
                "uplink_mbps": uplink_mbps,
                "safe_hls_viewers": min(by_cpu, by_uplink),
            }
        )
    return out
