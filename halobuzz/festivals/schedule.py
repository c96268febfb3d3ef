"""Festival start and end: which festivals changed state since they were last announced.

`announce(conn, now)` marks each festival that has started ('started') or ended ('ended') and
returns one `festival:active` event per change, to be published after COMMIT. A festival that
was never announced and is already over (created in the past, or cancelled before it began)
is closed silently.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from ..events import FESTIVAL_ACTIVE, Event
from ..infra.clock import iso, parse_iso
from . import store


def announce(conn: sqlite3.Connection, now: datetime) -> list[Event]:
    at = iso(now)
    events: list[Event] = []
    started = conn.execute(
        "SELECT * FROM festivals WHERE announced = 'none' AND cancelled = 0 AND starts_at <= ?1 "
        "AND ends_at > ?1 ORDER BY starts_at, id",
        (at,),
    ).fetchall()
    ended = conn.execute(
        "SELECT * FROM festivals WHERE announced = 'started' AND (ends_at <= ? OR cancelled = 1) ORDER BY ends_at, id",
        (at,),
    ).fetchall()
    for r in started:
        conn.execute("UPDATE festivals SET announced = 'started' WHERE id = ?", (r["id"],))
    for r in ended:
        conn.execute("UPDATE festivals SET announced = 'ended' WHERE id = ?", (r["id"],))
    conn.execute(
        "UPDATE festivals SET announced = 'ended' WHERE announced = 'none' AND (ends_at <= ? OR cancelled = 1)", (at,)
    )
    if started or ended:
        current = store.active(conn, now)
        for r, change in [*((r, "started") for r in started), *((r, "ended") for r in ended)]:
            events.append(
                Event(
                    FESTIVAL_ACTIVE, {"change": change, "festival": store.to_json(r, now), "active": current, "ts": at}
                )
            )
    return events


def next_boundary(conn: sqlite3.Connection, now: datetime) -> datetime | None:
    """The next start or end of a festival after `now` (for the one-shot timer)."""
    at = iso(now)
    row = conn.execute(
        "SELECT MIN(t) FROM (SELECT MIN(starts_at) AS t FROM festivals WHERE cancelled = 0 AND "
        "starts_at > ?1 UNION ALL SELECT MIN(ends_at) FROM festivals WHERE cancelled = 0 AND "
        "ends_at > ?1)",
        (at,),
    ).fetchone()
    return parse_iso(row[0]) if row and row[0] else None
