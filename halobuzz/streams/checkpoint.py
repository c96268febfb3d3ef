"""Live-room state that must survive a restart: write units and the read-back at start.

A restart used to wipe peak viewers, unique viewers, likes, the gift breakdown and the
trending activity of every live stream, so ending the stream afterwards stored the wrong
analytics. Changed streams are checkpointed every few seconds (one write unit for all of
them) and at shutdown; a kill -9 loses at most one interval of these counters (never coins:
those live in the ledger and `streams.total_coins`). Chat count and the late-join buffer need
no checkpoint: they are rebuilt from `chat_messages`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ..infra.clock import iso
from .live import TRENDING_WINDOW, LiveStats

INTERVAL_SECONDS = 2.0


def pending(stats: list[LiveStats], now: float) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Take what changed since the last checkpoint (and mark it taken): (stream id, row, new viewers)."""
    out = []
    for st in stats:
        if not st.dirty and not st.unsaved:
            continue
        row = {
            "peak": st.peak,
            "likes": st.likes,
            "gifts": json.dumps(st.gifts, sort_keys=True),
            "times": json.dumps([[round(t, 3), c] for t, c in st.gift_times if now - t <= TRENDING_WINDOW]),
        }
        out.append((st.stream_id, row, sorted(st.unsaved)))
        st.dirty = False
        st.unsaved = set()
    return out


def save(conn: sqlite3.Connection, items: list[tuple[str, dict[str, Any], list[str]]], now: datetime) -> None:
    at = iso(now)
    for stream_id, row, viewers in items:
        if not conn.execute("SELECT 1 FROM streams WHERE id = ? AND status = 'live'", (stream_id,)).fetchone():
            continue  # ended meanwhile: its analytics are on the row
        conn.execute(
            "INSERT INTO live_state(stream_id, peak_viewers, likes, gifts_json, gift_times_json, updated_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(stream_id) DO UPDATE SET peak_viewers = MAX(peak_viewers, "
            "excluded.peak_viewers), likes = excluded.likes, gifts_json = excluded.gifts_json, "
            "gift_times_json = excluded.gift_times_json, updated_at = excluded.updated_at",
            (stream_id, row["peak"], row["likes"], row["gifts"], row["times"], at),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO live_viewers(stream_id, user_id) VALUES (?, ?)",
            [(stream_id, uid) for uid in viewers],
        )


def clear(conn: sqlite3.Connection, stream_id: str) -> None:
    conn.execute("DELETE FROM live_state WHERE stream_id = ?", (stream_id,))
    conn.execute("DELETE FROM live_viewers WHERE stream_id = ?", (stream_id,))


async def restore(readers, stats: LiveStats) -> None:
    """Fill a freshly loaded stream's counters from its checkpoint and its stored chat."""
    sid = stats.stream_id
    row = await readers.fetchone("SELECT * FROM live_state WHERE stream_id = ?", (sid,))
    if row is not None:
        stats.peak = max(stats.peak, int(row["peak_viewers"]))
        stats.likes = int(row["likes"])
        stats.gifts = json.loads(row["gifts_json"] or "{}")
        stats.coins = sum(int(g.get("coins", 0)) for g in stats.gifts.values())
        stats.gift_times.extend((float(t), int(c)) for t, c in json.loads(row["gift_times_json"] or "[]"))
    stats.unique.update(
        r[0] for r in await readers.fetchall("SELECT user_id FROM live_viewers WHERE stream_id = ?", (sid,))
    )
    stats.chat_count = (
        await readers.fetchone("SELECT count(*) FROM chat_messages WHERE stream_id = ? AND status != 'blocked'", (sid,))
    )[0]
