"""Festival rows: validation, admin create/update/cancel (audited), listings and the leaderboard.

Every function takes a sqlite3 connection: writes run inside a writer unit, reads on a reader.
Themed gifts follow their festival: saving a festival sets each themed gift's
activeFrom/activeUntil to the festival window (through the catalog, audited too).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from ..accounts import audit
from ..errors import Conflict, Invalid, NotFound
from ..gifts import catalog
from ..infra.clock import iso
from . import calendar

KINDS = ("dashain", "tihar", "holi", "christmas", "new-year", "custom")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
_LOCAL = "%Y-%m-%dT%H:%M"
MAX_BONUS_BPS = 10_000  # at most +100 %
MAX_DAYS = 62

# Themed gifts the templates use; created (inactive outside their festival) when first needed.
THEMED_GIFTS: dict[str, tuple[str, int, str]] = {
    "tika": ("Tika", 20, "gifts/festival/tika.svg"),
    "diyo": ("Diyo", 15, "gifts/festival/diyo.svg"),
    "colours": ("Holi Colours", 25, "gifts/festival/colours.svg"),
    "star": ("Christmas Star", 30, "gifts/festival/star.svg"),
    "firework": ("Firework", 99, "gifts/festival/firework.svg"),
}


@dataclass(frozen=True)
class FestivalSpec:
    id: str
    kind: str
    name_en: str
    name_ne: str
    banner_en: str
    banner_ne: str
    starts_local: str
    ends_local: str
    tz: str = calendar.NEPAL_TZ
    bs_start: str | None = None
    purchase_bonus_bps: int = 0
    gift_bonus_bps: int = 0
    gift_ids: tuple[str, ...] = field(default=())


def _local(text: str, name: str, problems: dict) -> datetime | None:
    for fmt in (_LOCAL, _LOCAL + ":%S"):
        try:
            return datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
    problems[name] = "must be a local time YYYY-MM-DDTHH:MM[:SS] (no offset: the zone is `tz`)"
    return None


def window(spec: FestivalSpec) -> tuple[datetime, datetime]:
    """Validate and return the UTC window."""
    problems: dict[str, str] = {}
    if not _ID.match(spec.id or ""):
        problems["id"] = "must be 2-48 lowercase letters, digits or '-'"
    if spec.kind not in KINDS:
        problems["kind"] = f"must be one of {', '.join(KINDS)}"
    for name in ("name_en", "name_ne"):
        if not (getattr(spec, name) or "").strip() or len(getattr(spec, name)) > 60:
            problems[_camel(name)] = "must be 1-60 characters"
    for name in ("banner_en", "banner_ne"):
        if not (getattr(spec, name) or "").strip() or len(getattr(spec, name)) > 200:
            problems[_camel(name)] = "must be 1-200 characters"
    for name in ("purchase_bonus_bps", "gift_bonus_bps"):
        value = getattr(spec, name)
        if not isinstance(value, int) or not 0 <= value <= MAX_BONUS_BPS:
            problems[_camel(name)] = f"must be 0-{MAX_BONUS_BPS} (basis points: 1000 = +10 %)"
    if len(spec.gift_ids) > 10:
        problems["giftIds"] = "at most 10 themed gifts"
    start = _local(spec.starts_local, "startsLocal", problems)
    end = _local(spec.ends_local, "endsLocal", problems)
    try:
        calendar.zone(spec.tz)
    except Invalid:
        problems["tz"] = "must be an IANA time zone, e.g. Asia/Kathmandu"
    if start and end and "tz" not in problems:
        if end <= start:
            problems["endsLocal"] = "must be after startsLocal"
        elif (end - start).days > MAX_DAYS:
            problems["endsLocal"] = f"a festival lasts at most {MAX_DAYS} days"
    if problems:
        raise Invalid("some festival fields are not valid", fields=problems)
    return calendar.to_utc(start, spec.tz), calendar.to_utc(end, spec.tz)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def from_template(
    name: str,
    year: int,
    *,
    festival_id: str | None = None,
    bs_start: str | None = None,
    bs_end: str | None = None,
    **overrides: Any,
) -> FestivalSpec:
    """A built-in festival for a year; BS dates given explicitly win over the shipped table."""
    t = calendar.TEMPLATES.get(name)
    if t is None:
        raise Invalid(f"unknown festival template {name!r}; one of {', '.join(calendar.TEMPLATES)}", field="template")
    if bs_start or bs_end:
        if not (bs_start and bs_end):
            raise Invalid("give both bsStart and bsEnd", field="bsEnd" if bs_start else "bsStart")
        start, end = calendar.day_window(calendar.bs_to_ad(bs_start, "bsStart"), calendar.bs_to_ad(bs_end, "bsEnd"))
        bs = bs_start
    else:
        start, end, bs = calendar.template_window(name, year)
    spec = FestivalSpec(
        id=festival_id or f"{name}-{year}",
        kind=t.kind,
        name_en=t.name_en,
        name_ne=t.name_ne,
        banner_en=t.banner_en,
        banner_ne=t.banner_ne,
        starts_local=start.strftime(_LOCAL),
        ends_local=end.strftime(_LOCAL),
        tz=calendar.NEPAL_TZ,
        bs_start=bs,
        purchase_bonus_bps=t.purchase_bonus_bps,
        gift_bonus_bps=t.gift_bonus_bps,
        gift_ids=t.gift_ids,
    )
    return replace(spec, **{k: v for k, v in overrides.items() if v is not None})


def to_json(r: sqlite3.Row, now: datetime | None = None) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "kind": r["kind"],
        "name": {"en": r["name_en"], "ne": r["name_ne"]},
        "banner": {"en": r["banner_en"], "ne": r["banner_ne"]},
        "tz": r["tz"],
        "startsLocal": r["starts_local"],
        "endsLocal": r["ends_local"],
        "startsAt": r["starts_at"],
        "endsAt": r["ends_at"],
        "bsStart": r["bs_start"],
        "purchaseBonusBps": r["purchase_bonus_bps"],
        "giftBonusBps": r["gift_bonus_bps"],
        "giftIds": json.loads(r["gift_ids"]),
        "cancelled": bool(r["cancelled"]),
    }
    if now is not None:
        out["status"] = status_of(r, now)
    return out


def status_of(r: sqlite3.Row, now: datetime) -> str:
    at = iso(now)
    if r["cancelled"]:
        return "cancelled"
    if at < r["starts_at"]:
        return "scheduled"
    return "active" if at < r["ends_at"] else "ended"


def get(conn: sqlite3.Connection, festival_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM festivals WHERE id = ?", (festival_id,)).fetchone()
    if row is None:
        raise NotFound("no such festival", field="festivalId")
    return row


ACTIVE_SQL = "SELECT * FROM festivals WHERE cancelled = 0 AND starts_at <= ?1 AND ends_at > ?1 ORDER BY starts_at, id"


def active(conn: sqlite3.Connection, now: datetime) -> list[dict[str, Any]]:
    return [to_json(r, now) for r in conn.execute(ACTIVE_SQL, (iso(now),))]


def listing(conn: sqlite3.Connection, now: datetime, include_past: bool = False) -> list[dict[str, Any]]:
    sql = "SELECT * FROM festivals" + ("" if include_past else " WHERE ends_at > ?") + " ORDER BY starts_at, id"
    rows = conn.execute(sql, () if include_past else (iso(now),)).fetchall()
    return [to_json(r, now) for r in rows]


def _save(
    conn: sqlite3.Connection, spec: FestivalSpec, start: datetime, end: datetime, now: datetime, insert: bool
) -> None:
    values = (
        spec.kind,
        spec.name_en.strip(),
        spec.name_ne.strip(),
        spec.banner_en.strip(),
        spec.banner_ne.strip(),
        spec.tz,
        spec.starts_local,
        spec.ends_local,
        iso(start),
        iso(end),
        spec.bs_start,
        spec.purchase_bonus_bps,
        spec.gift_bonus_bps,
        json.dumps(list(spec.gift_ids)),
        iso(now),
    )
    if insert:
        conn.execute(
            "INSERT INTO festivals(kind, name_en, name_ne, banner_en, banner_ne, tz, starts_local, ends_local,"
            " starts_at, ends_at, bs_start, purchase_bonus_bps, gift_bonus_bps, gift_ids, updated_at, id,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*values, spec.id, iso(now)),
        )
    else:
        conn.execute(
            "UPDATE festivals SET kind=?, name_en=?, name_ne=?, banner_en=?, banner_ne=?, tz=?, "
            "starts_local=?, ends_local=?, starts_at=?, ends_at=?, bs_start=?, purchase_bonus_bps=?, "
            "gift_bonus_bps=?, gift_ids=?, updated_at=? WHERE id=?",
            (*values, spec.id),
        )
        # A moved window is announced again from what is true now (the schedule job does it).
        at = iso(now)
        if at < iso(start):
            conn.execute("UPDATE festivals SET announced = 'none' WHERE id = ?", (spec.id,))
        elif at < iso(end):
            conn.execute("UPDATE festivals SET announced = 'none' WHERE id = ? AND announced = 'ended'", (spec.id,))


def _sync_gifts(
    conn: sqlite3.Connection, spec: FestivalSpec, start: datetime, end: datetime, actor: audit.Actor, now: datetime
) -> None:
    for gift_id in spec.gift_ids:
        exists = conn.execute("SELECT 1 FROM gifts WHERE id = ?", (gift_id,)).fetchone()
        window_ = {"active_from": iso(start), "active_until": iso(end), "active": True}
        if exists:
            catalog.update(conn, gift_id, window_, actor, now)
        elif gift_id in THEMED_GIFTS:
            name, price, art = THEMED_GIFTS[gift_id]
            catalog.create(
                conn,
                catalog.GiftSpec(
                    id=gift_id, name=name, price=price, art=art, sort=50, active_from=iso(start), active_until=iso(end)
                ),
                actor,
                now,
            )
        else:
            raise Invalid(f"no such gift {gift_id!r}", field="giftIds")


def create(conn: sqlite3.Connection, spec: FestivalSpec, actor: audit.Actor, now: datetime) -> dict[str, Any]:
    start, end = window(spec)
    if conn.execute("SELECT 1 FROM festivals WHERE id = ?", (spec.id,)).fetchone():
        raise Conflict("a festival with this id exists", code="festival_exists", field="id")
    _save(conn, spec, start, end, now, insert=True)
    _sync_gifts(conn, spec, start, end, actor, now)
    after = to_json(get(conn, spec.id), now)
    audit.record(conn, actor, "festival.create", target_type="festival", target_id=spec.id, after=after, at=iso(now))
    return after


def spec_of(r: sqlite3.Row) -> FestivalSpec:
    return FestivalSpec(
        id=r["id"],
        kind=r["kind"],
        name_en=r["name_en"],
        name_ne=r["name_ne"],
        banner_en=r["banner_en"],
        banner_ne=r["banner_ne"],
        starts_local=r["starts_local"],
        ends_local=r["ends_local"],
        tz=r["tz"],
        bs_start=r["bs_start"],
        purchase_bonus_bps=r["purchase_bonus_bps"],
        gift_bonus_bps=r["gift_bonus_bps"],
        gift_ids=tuple(json.loads(r["gift_ids"])),
    )


def update(
    conn: sqlite3.Connection, festival_id: str, changes: dict[str, Any], actor: audit.Actor, now: datetime
) -> dict[str, Any]:
    row = get(conn, festival_id)
    if row["cancelled"]:
        raise Conflict("the festival is cancelled", code="festival_cancelled")
    before = to_json(row, now)
    unknown = set(changes) - set(asdict(spec_of(row))) | ({"id"} & set(changes))
    if unknown:
        raise Invalid("these fields cannot be changed", fields={_camel(k): "cannot be changed" for k in unknown})
    if "gift_ids" in changes:
        changes = {**changes, "gift_ids": tuple(changes["gift_ids"])}
    spec = replace(spec_of(row), **changes)
    start, end = window(spec)
    _save(conn, spec, start, end, now, insert=False)
    _sync_gifts(conn, spec, start, end, actor, now)
    after = to_json(get(conn, festival_id), now)
    audit.record(
        conn,
        actor,
        "festival.update",
        target_type="festival",
        target_id=festival_id,
        before=before,
        after=after,
        at=iso(now),
    )
    return after


def cancel(conn: sqlite3.Connection, festival_id: str, actor: audit.Actor, now: datetime) -> dict[str, Any]:
    """Cancel (a festival with bonuses paid keeps its row: the ledger points at it). Themed gifts end now."""
    row = get(conn, festival_id)
    before = to_json(row, now)
    conn.execute("UPDATE festivals SET cancelled = 1, updated_at = ? WHERE id = ?", (iso(now), festival_id))
    for gift_id in json.loads(row["gift_ids"]):
        g = conn.execute("SELECT active_until FROM gifts WHERE id = ?", (gift_id,)).fetchone()
        if g is not None and g["active_until"] == row["ends_at"]:
            catalog.update(
                conn,
                gift_id,
                {"active_until": iso(now) if iso(now) > row["starts_at"] else row["starts_at"]},
                actor,
                now,
            )
    after = to_json(get(conn, festival_id), now)
    audit.record(
        conn,
        actor,
        "festival.cancel",
        target_type="festival",
        target_id=festival_id,
        before=before,
        after=after,
        at=iso(now),
    )
    return after


def leaderboard(
    conn: sqlite3.Connection, festival_id: str, role: str = "gifter", limit: int = 20
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT s.user_id, s.coins, u.username, u.og_level FROM festival_scores s JOIN users u "
        "ON u.id = s.user_id WHERE s.festival_id = ? AND s.role = ? ORDER BY s.coins DESC, "
        "s.updated_at LIMIT ?",
        (festival_id, role, limit),
    ).fetchall()
    return [
        {
            "rank": i + 1,
            "userId": r["user_id"],
            "username": r["username"],
            "coins": r["coins"],
            "ogLevel": r["og_level"],
        }
        for i, r in enumerate(rows)
    ]
