"""A publisher like OBS for the video tests: ffmpeg pushing a test pattern and a tone to an RTMP
ingest in real time (H.264 + AAC, a keyframe every second)."""

from __future__ import annotations

import subprocess

from halobuzz.media import engine


def push(url: str, seconds: float, size: str = "320x240") -> subprocess.Popen:
    argv = [engine.ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-re"]
    argv += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=30", "-f", "lavfi", "-i", "sine=frequency=440"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-t", str(seconds), "-f", "flv", url]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
