"""`halobuzz doctor` check for the video path: every ready replay still has its files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .replay import PLAYLIST, REPLAY_DIR


def _data_dir(conn: sqlite3.Connection) -> Path | None:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    return None


def replays_on_disk(conn: sqlite3.Connection) -> list[str]:
    data = _data_dir(conn)
    if data is None:
        return []
    problems = []
    for (stream_id,) in conn.execute("SELECT stream_id FROM stream_replays WHERE status = 'ready'"):
        if not (data / "video" / stream_id / REPLAY_DIR / PLAYLIST).is_file():
            problems.append(f"replay of stream {stream_id} is marked ready but {REPLAY_DIR}/{PLAYLIST} is missing")
    return problems[:20]
