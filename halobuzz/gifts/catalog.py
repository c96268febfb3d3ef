"""The gift catalog: seeded from assets/gifts/catalog.json, edited by admins (audited)."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..accounts import audit
from ..errors import Conflict, Invalid, NotFound
from ..infra.clock import iso, parse_iso

ANIMATIONS = ("basic", "premium", "legendary")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
MAX_PRICE = 1_000_000


@dataclass(frozen=True)
class GiftSpec:
    id: str
    name: str
    price: int
    art: str
    animation: str = "basic"
    og_min_level: int = 0
    active: bool = True
    active_from: str | None = None
    active_until: str | None = None
    sort: int = 0


def validate(spec: GiftSpec) -> GiftSpec:
    if spec.art.startswith("/assets/"):
        # GET /gifts shows art as "/assets/<path>": that form is accepted back as it is.
        spec = replace(spec, art=spec.art[len("/assets/") :])
    problems = {}
    if not _SLUG.match(spec.id):
        problems["id"] = "must be 2-40 lowercase letters, digits, '-' or '_'"
    if not spec.name.strip() or len(spec.name) > 60:
        problems["name"] = "must be 1-60 characters"
    if not 1 <= spec.price <= MAX_PRICE:
        problems["price"] = f"must be between 1 and {MAX_PRICE} coins"
    if spec.animation not in ANIMATIONS:
        problems["animation"] = f"must be one of {', '.join(ANIMATIONS)}"
    if not 0 <= spec.og_min_level <= 5:
        problems["ogMinLevel"] = "must be 0-5"
    if ".." in spec.art or spec.art.startswith("/") or not spec.art:
        problems["art"] = "must be a path under /assets/ (e.g. gifts/rose.svg or /assets/gifts/rose.svg)"
    for name in ("active_from", "active_until"):
        value = getattr(spec, name)
        if value:
            field = "activeFrom" if name == "active_from" else "activeUntil"
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                problems[field] = "must be an ISO-8601 time"
                continue
            if parsed.tzinfo is None:
                problems[field] = "must carry a UTC offset, e.g. 2026-10-20T00:00:00Z"
    if problems:
        raise Invalid("some gift fields are not valid", fields=problems)
    return spec


def load_seed(assets: Path) -> list[GiftSpec]:
    doc = json.loads((assets / "gifts" / "catalog.json").read_text(encoding="utf-8"))
    return [
        GiftSpec(
            id=g["id"],
            name=g["name"],
            price=g["price"],
            art=g["art"],
            animation=g["animation"],
            og_min_level=g.get("ogMinLevel", 0),
            sort=g.get("sort", 0),
        )
        for g in doc["gifts"]
    ]


def seed(conn: sqlite3.Connection, specs: list[GiftSpec], now: datetime) -> int:
    """Insert catalog gifts that are missing; never overwrite an admin's edits."""
    added = 0
    for s in specs:
        cur = conn.execute(
            "INSERT OR IGNORE INTO gifts(id, name, price, art, animation, og_min_level, active, sort, updated_at) "
            "VALUES (?,?,?,?,?,?,1,?,?)",
            (s.id, s.name, s.price, s.art, s.animation, s.og_min_level, s.sort, iso(now)),
        )
        added += cur.rowcount
    return added


def to_json(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "price": r["price"],
        "art": "/assets/" + r["art"],
        "animation": r["animation"],
        "ogExclusive": r["og_min_level"] > 0,
        "ogMinLevel": r["og_min_level"],
        "active": bool(r["active"]),
        "activeFrom": r["active_from"],
        "activeUntil": r["active_until"],
    }


def available_now(r: sqlite3.Row, now: datetime) -> bool:
    if not r["active"]:
        return False
    start, end = parse_iso(r["active_from"]), parse_iso(r["active_until"])
    return (start is None or start <= now) and (end is None or now < end)


def listing(conn: sqlite3.Connection, now: datetime, include_inactive: bool = False) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM gifts ORDER BY sort, price").fetchall()
    return [to_json(r) for r in rows if include_inactive or available_now(r, now)]


def get(conn: sqlite3.Connection, gift_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM gifts WHERE id = ?", (gift_id,)).fetchone()
    if row is None:
        raise NotFound("no such gift", field="giftId")
    return row


def create(conn: sqlite3.Connection, spec: GiftSpec, actor: audit.Actor, now: datetime) -> dict[str, Any]:
    spec = validate(spec)
    if conn.execute("SELECT 1 FROM gifts WHERE id = ?", (spec.id,)).fetchone():
        raise Conflict("a gift with this id exists", field="id")
    conn.execute(
        "INSERT INTO gifts(id, name, price, art, animation, og_min_level, active, active_from, active_until,"
        " sort, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            spec.id,
            spec.name,
            spec.price,
            spec.art,
            spec.animation,
            spec.og_min_level,
            int(spec.active),
            spec.active_from,
            spec.active_until,
            spec.sort,
            iso(now),
        ),
    )
    after = to_json(get(conn, spec.id))
    audit.record(conn, actor, "gift.create", target_type="gift", target_id=spec.id, after=after, at=iso(now))
    return after


def update(
    conn: sqlite3.Connection, gift_id: str, changes: dict[str, Any], actor: audit.Actor, now: datetime
) -> dict[str, Any]:
    row = get(conn, gift_id)
    before = to_json(row)
    current = GiftSpec(
        id=row["id"],
        name=row["name"],
        price=row["price"],
        art=row["art"],
        animation=row["animation"],
        og_min_level=row["og_min_level"],
        active=bool(row["active"]),
        active_from=row["active_from"],
        active_until=row["active_until"],
        sort=row["sort"],
    )
    spec = validate(GiftSpec(**{**current.__dict__, **changes}))
    conn.execute(
        "UPDATE gifts SET name=?, price=?, art=?, animation=?, og_min_level=?, active=?, active_from=?, "
        "active_until=?, sort=?, updated_at=? WHERE id=?",
        (
            spec.name,
            spec.price,
            spec.art,
            spec.animation,
            spec.og_min_level,
            int(spec.active),
            spec.active_from,
            spec.active_until,
            spec.sort,
            iso(now),
            gift_id,
        ),
    )
    after = to_json(get(conn, gift_id))
    audit.record(
        conn, actor, "gift.update", target_type="gift", target_id=gift_id, before=before, after=after, at=iso(now)
    )
    return after
