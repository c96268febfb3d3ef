"""Users: validation of who may register, the write units that change users, and profiles."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import Conflict, Invalid, NotFound
from ..infra.clock import iso, parse_iso
from ..infra.countries import CODES
from ..infra.crypto import MAX_PASSWORD_BYTES
from ..infra.text import clean
from . import audit
from .roles import ROLES, STATUSES, trust_level

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_USERNAME = re.compile(r"^[A-Za-z0-9_.]{3,32}$")
_LOOKS_LIKE_ID = re.compile(r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$")  # our ULID ids, any case
ADULT_AGE = 18


@dataclass(frozen=True)
class NewUser:
    email: str
    username: str
    password: str
    country: str
    birth_date: str


def validate_new_user(u: NewUser, today: date, min_age: int) -> NewUser:
    """Check every field; raise Invalid naming all the bad ones at once."""
    problems: dict[str, str] = {}
    email = clean(u.email).lower()
    if len(email) > 254 or not _EMAIL.match(email):
        problems["email"] = "must be an email address"
    username = u.username.strip()  # identifiers are refused, not silently cleaned
    if not _USERNAME.match(username):
        problems["username"] = "must be 3-32 letters, digits, '_' or '.'"
    elif _LOOKS_LIKE_ID.match(username):
        problems["username"] = "must not look like an account id"
    if len(u.password) < 8:
        problems["password"] = "must be at least 8 characters"
    elif len(u.password.encode()) > MAX_PASSWORD_BYTES:
        problems["password"] = f"must be at most {MAX_PASSWORD_BYTES} bytes"
    country = u.country.strip().upper()
    if country not in CODES:
        problems["country"] = "must be an ISO 3166-1 alpha-2 country code"
    try:
        born = date.fromisoformat(u.birth_date)
        age = age_on(born, today)
        if born > today or age > 120:
            problems["birthDate"] = "must be a real birth date"
        elif age < min_age:
            problems["birthDate"] = f"you must be at least {min_age} to register"
    except ValueError:
        problems["birthDate"] = "must be a date like 2001-04-30"
    if problems:
        raise Invalid("some fields are not valid", fields=problems)
    return NewUser(email, username, u.password, country, u.birth_date)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def insert_user(
    conn: sqlite3.Connection, user_id: str, u: NewUser, password_hash: str, now: datetime, role: str = "user"
) -> None:
    clash = conn.execute(
        "SELECT email = ? COLLATE NOCASE AS same_email FROM users "
        "WHERE email = ? COLLATE NOCASE OR username = ? COLLATE NOCASE LIMIT 1",
        (u.email, u.email, u.username),
    ).fetchone()
    if clash:
        field = "email" if clash["same_email"] else "username"
        raise Conflict(f"that {field} is already registered", code="already_registered", field=field)
    stamp = iso(now)
    conn.execute(
        "INSERT INTO users(id, username, email, password_hash, country, birth_date, role, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (user_id, u.username, u.email, password_hash, u.country, u.birth_date, role, stamp, stamp),
    )


def get(conn: sqlite3.Connection, user_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if not row:
        raise NotFound("no such user", field="user")
    return row


def find(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    """A user by id, email or username (what an operator types at the CLI)."""
    # An exact id wins over an email or username that happens to equal it.
    row = conn.execute(
        "SELECT * FROM users WHERE id = ? OR email = ? COLLATE NOCASE OR username = ? COLLATE NOCASE "
        "ORDER BY id = ? DESC LIMIT 1",
        (ref, ref, ref, ref),
    ).fetchone()
    if not row:
        raise NotFound(f"no user {ref!r}", field="user")
    return row


def is_blocked(row: sqlite3.Row | dict, now: datetime) -> str | None:
    """Why this account may not act right now, or None."""
    status = row["status"]
    if status == "banned":
        return "this account is banned"
    if status == "suspended":
        until = parse_iso(row["status_until"])
        if until is None or until > now:
            return "this account is suspended" + (f" until {row['status_until']}" if until else "")
    return None


def profile(row: sqlite3.Row, today: date, coins: dict[str, int] | None = None) -> dict[str, Any]:
    born = date.fromisoformat(row["birth_date"])
    return {
        "id": row["id"],
        "username": row["username"],
        "email": row["email"],
        "country": row["country"],
        "birthDate": row["birth_date"],
        "age": age_on(born, today),
        "role": row["role"],
        "status": row["status"],
        "coins": coins or {"balance": 0, "bonusBalance": 0, "totalEarned": 0, "totalSpent": 0},
        "ogLevel": row["og_level"],
        "ogExpiresAt": row["og_expires_at"],
        "trust": {
            "score": row["trust_score"],
            "level": trust_level(row["trust_score"], "trust_verified" in row.keys() and bool(row["trust_verified"])),
        },
        "createdAt": row["created_at"],
    }


def public_profile(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "country": row["country"],
        "ogLevel": row["og_level"],
        "role": row["role"],
    }


def set_role(conn: sqlite3.Connection, ref: str, role: str, actor: audit.Actor, now: datetime) -> dict:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    row = find(conn, ref)
    conn.execute("UPDATE users SET role = ?, updated_at = ? WHERE id = ?", (role, iso(now), row["id"]))
    audit.record(
        conn,
        actor,
        "user.set_role",
        target_type="user",
        target_id=row["id"],
        before={"role": row["role"]},
        after={"role": role},
        at=iso(now),
    )
    return {"id": row["id"], "role": role}


def set_status(
    conn: sqlite3.Connection,
    ref: str,
    status: str,
    actor: audit.Actor,
    now: datetime,
    *,
    reason: str | None = None,
    until: datetime | None = None,
) -> dict:
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
    row = find(conn, ref)
    conn.execute(
        "UPDATE users SET status = ?, status_until = ?, status_reason = ?, updated_at = ? WHERE id = ?",
        (status, iso(until), reason, iso(now), row["id"]),
    )
    if status != "active":
        # A ban ends every session at once, not when the access token expires.
        conn.execute(
            "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
            (iso(now), f"account {status}", row["id"]),
        )
    audit.record(
        conn,
        actor,
        f"user.{'unban' if status == 'active' else status}",
        target_type="user",
        target_id=row["id"],
        before={"status": row["status"]},
        after={"status": status, "until": iso(until), "reason": reason},
        at=iso(now),
    )
    return {"id": row["id"], "status": status}


def listing_query(
    *, query: str | None = None, role: str | None = None, limit: int = 50, after: str | None = None
) -> tuple[str, list[Any]]:
    """Users filtered by part of a username/email and role, in id order (cursor = last id)."""
    sql = "SELECT * FROM users WHERE 1=1"
    params: list[Any] = []
    if query:
        sql += " AND (username LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')"
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    if role:
        sql += " AND role = ?"
        params.append(role)
    if after:
        sql += " AND id > ?"
        params.append(after)
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    return sql, params


def listing(conn: sqlite3.Connection, **filters: Any) -> list[sqlite3.Row]:
    return conn.execute(*listing_query(**filters)).fetchall()
