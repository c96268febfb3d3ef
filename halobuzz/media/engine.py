"""The media engine: an ffmpeg executable, found once, checked for what the video path needs.

Order: an explicit path (setting `media_ffmpeg`), the static build that the `imageio-ffmpeg`
wheel ships, then `ffmpeg` on PATH (Debian's package). The one-file binary does not bundle
ffmpeg (the static build alone is ~170 MB): there the operator installs one package,
`apt-get install ffmpeg`, and it is found on PATH.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

NEEDED_PROTOCOLS = ("rtmp",)
NEEDED_MUXERS = ("hls", "flv")
NEEDED_ENCODERS = ("libx264", "aac")


class EngineError(RuntimeError):
    pass


def ffmpeg_binary(explicit: str = "") -> str:
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise EngineError(f"media_ffmpeg {explicit} is not an executable file")
        return explicit
    try:
        import imageio_ffmpeg

        path = imageio_ffmpeg.get_ffmpeg_exe()
        if path and os.access(path, os.X_OK):
            return path
    except Exception:  # not installed, or its binary missing on this platform
        pass
    found = shutil.which("ffmpeg")
    if found:
        return found
    raise EngineError(
        "ffmpeg not found: pip install imageio-ffmpeg, or apt-get install ffmpeg, or set HALOBUZZ_MEDIA_FFMPEG"
    )


@dataclass(frozen=True)
class EngineInfo:
    path: str
    version: str
    missing: tuple[str, ...]  # protocols/muxers/encoders the video path needs but this build lacks

    @property
    def ok(self) -> bool:
        return not self.missing


def _listing(binary: str, flag: str) -> str:
    out = subprocess.run([binary, "-hide_banner", flag], capture_output=True, text=True, timeout=20)
    return out.stdout


@functools.lru_cache(maxsize=4)
def describe(binary: str) -> EngineInfo:
    """Version and capability check (cached per path; runs ffmpeg four times)."""
    try:
        head = subprocess.run(
            [binary, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20
        ).stdout.splitlines()
        version = head[0].split(" Copyright")[0] if head else "unknown"
        protocols = _listing(binary, "-protocols").split()
        muxers = {m.group(1) for m in re.finditer(r"^\s*[D ]?E[ d]?\s+(\S+)", _listing(binary, "-muxers"), re.M)}
        encoders = {m.group(1) for m in re.finditer(r"^\s*[VAS][\w.]{5}\s+(\S+)", _listing(binary, "-encoders"), re.M)}
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"cannot run {binary}: {exc}") from None
    missing = tuple(
        [f"protocol:{p}" for p in NEEDED_PROTOCOLS if p not in protocols]
        + [f"muxer:{m}" for m in NEEDED_MUXERS if not any(m in x.split(",") for x in muxers)]
        + [f"encoder:{e}" for e in NEEDED_ENCODERS if e not in encoders]
    )
    return EngineInfo(binary, version, missing)


def version_line(explicit: str = "") -> str:
    """For `halobuzz version` and doctor: never raises."""
    try:
        info = describe(ffmpeg_binary(explicit))
    except EngineError as exc:
        return f"unavailable ({exc})"
    return info.version + (f" (missing {', '.join(info.missing)})" if info.missing else "")
