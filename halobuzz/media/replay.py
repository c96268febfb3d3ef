"""A stream's replay: the verified runs' kept segments remuxed (no re-encode) into one HLS VOD.

ffmpeg's concat demuxer reads the segments in order and its HLS muxer writes
`replay/index.m3u8` (`#EXT-X-PLAYLIST-TYPE:VOD`, 4 s segments, ENDLIST). The raw live segments
are removed afterwards. A run that never verified has already been discarded by the ingest.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

REPLAY_DIR = "replay"
PLAYLIST = "index.m3u8"
SEGMENT = re.compile(r"^r(\d+)-(\d+)\.ts$")
_EXTINF = re.compile(r"^#EXTINF:([\d.]+)", re.M)


@dataclass(frozen=True)
class ReplayResult:
    playlist: Path
    duration_seconds: float
    bytes: int


def recorded_segments(directory: Path, runs: list[int] | None = None) -> list[Path]:
    """Finished segments (not `.tmp`), ordered by run then sequence."""
    found = []
    for p in directory.glob("r*-*.ts"):
        m = SEGMENT.match(p.name)
        if m and (runs is None or int(m.group(1)) in runs):
            found.append((int(m.group(1)), int(m.group(2)), p))
    return [p for _, _, p in sorted(found)]


def playlist_duration(playlist: Path) -> float:
    return round(sum(float(x) for x in _EXTINF.findall(playlist.read_text())), 3)


async def build(
    binary: str, directory: Path, runs: list[int] | None = None, *, segment_seconds: int = 4, timeout: float = 600.0
) -> ReplayResult | None:
    """Remux the recorded segments into directory/replay/. None when nothing was recorded."""
    segments = recorded_segments(directory, runs)
    if not segments:
        return None
    out = directory / REPLAY_DIR
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    listing = directory / "concat.txt"
    # The concat demuxer's own quoting: one `file '<path>'` line each, single quotes escaped.
    listing.write_text("".join("file '" + str(p).replace("'", "'\\''") + "'\n" for p in segments))
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "hls",
        "-hls_time",
        str(segment_seconds),
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_filename",
        str(out / "seg-%05d.ts"),
        str(out / PLAYLIST),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError("replay remux timed out") from None
    if proc.returncode != 0 or not (out / PLAYLIST).is_file():
        raise RuntimeError(f"replay remux failed ({proc.returncode}): {err.decode(errors='replace')[-300:]}")
    listing.unlink(missing_ok=True)
    for p in directory.glob("r*"):
        if p.is_file():
            p.unlink(missing_ok=True)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    return ReplayResult(out / PLAYLIST, playlist_duration(out / PLAYLIST), size)
