"""Account flows: register, login, refresh, logout, and who is calling (per request)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

from ..errors import Forbidden, Unauthorized
from ..infra.clock import iso
from ..infra.crypto import burn_password_check, check_password, hash_password
from ..infra.paging import page
from . import audit, tokens, users
from .roles import at_least


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user_id: str
    session_id: str
    role: str
    email: str
    username: str
    user: Any = None  # the users row read for this request (fresh: read per request)
    expires: float = 0.0  # when the access token that proved this expires (unix seconds)

    def require(self, role: str) -> None:
        if not at_least(self.role, role):
            raise Forbidden(f"this needs the {role} role", code="forbidden")


class Accounts:
    def __init__(
        self,
        db,
        clock,
        ids,
        access: tokens.AccessTokens,
        *,
        bcrypt_rounds: int,
        refresh_ttl: int,
        min_age: int,
        reuse_leeway: int = 30,
        coins_of: Callable[[str], dict[str, int]] | None = None,
        visitor_of: Callable[[tokens.Claims], "Principal"] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.access = access
        self.bcrypt_rounds = bcrypt_rounds
        self.refresh_ttl = refresh_ttl
        self.min_age = min_age
        self.reuse_leeway = timedelta(seconds=reuse_leeway)
        # user id -> the seed's coins block (the wallet's view). Accounts does not know
        # the ledger; without it profiles show zeros.
        self.coins_of = coins_of
        # On a sharded deployment: a peer shard's verified claims -> the Principal of that
        # visitor here (a mirror users row, so rooms and chat work unchanged). See shards/visitors.py.
        self.visitor_of: Callable[[tokens.Claims], "Principal"] | None = visitor_of

    async def audit(self, actor: audit.Actor, action: str, **details: Any) -> None:
        """Record an admin action that changed nothing else (a job run, a payload viewed)."""
        at = iso(self.clock.now())
        await self.db.write(lambda conn: audit.record(conn, actor, action, at=at, **details))

    # -- administration ----------------------------------------------------------------
    async def list_users(self, query: str | None, role: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        rows = await self.db.readers.fetchall(*users.listing_query(query=query, role=role, limit=limit, after=cursor))
        today = self.clock.now().date()
        return page([self.profile(r, today) for r in rows], limit)

    async def set_role(self, user_id: str, role: str, actor: audit.Actor) -> dict[str, Any]:
        now = self.clock.now()
        return await self.db.write(lambda conn: users.set_role(conn, user_id, role, actor, now))

    async def set_status(
        self,
        user_id: str,
        actor: audit.Actor,
        *,
        lift: bool = False,
        days: int | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Ban (no days), suspend for `days`, or lift; audited."""
        now = self.clock.now()
        status = "active" if lift else ("suspended" if days else "banned")
        until = now + timedelta(days=days) if days and not lift else None
        return await self.db.write(
            lambda conn: users.set_status(conn, user_id, status, actor, now, reason=reason, until=until)
        )

    async def audit_entries(
        self, action: str | None, target: str | None, cursor: int | None, limit: int
    ) -> dict[str, Any]:
        rows = await self.db.readers.fetchall(
            *audit.entries_query(limit=limit, action=action, target_id=target, before_id=cursor)
        )
        return page([audit.audit_row(r) for r in rows], limit)

    def profile(self, row, today) -> dict[str, Any]:
        return users.profile(row, today, self.coins_of(row["id"]) if self.coins_of else None)

    def _pair(self, user_id: str, session_id: str, refresh: str, row=None) -> dict[str, str]:
        visitor = None
        if row is not None and self.access.sharded:
            visitor = {
                "name": row["username"],
                "cty": row["country"],
                "og": row["og_level"],
                "adult": users.age_on(date.fromisoformat(row["birth_date"]), self.clock.now().date()) >= 18,
            }
        return {
            "accessToken": self.access.issue(user_id, session_id, self.clock.now(), visitor),
            "refreshToken": refresh,
            "tokenType": "Bearer",
            "expiresIn": self.access.ttl,
        }

    async def register(
        self, new: users.NewUser, *, user_agent: str | None = None, ip: str | None = None, role: str = "user"
    ) -> dict[str, Any]:
        now = self.clock.now()
        new = users.validate_new_user(new, now.date(), self.min_age)
        # bcrypt takes ~250 ms at cost 12: never on the event loop.
        pw_hash = await asyncio.to_thread(hash_password, new.password, self.bcrypt_rounds)
        user_id, session_id, refresh = self.ids.new(), self.ids.new(), self.ids.token()

        def unit(conn):
            users.insert_user(conn, user_id, new, pw_hash, now, role)
            tokens.start_session(conn, session_id, user_id, refresh, now, self.refresh_ttl, user_agent, ip)
            return users.get(conn, user_id)

        row = await self.db.write(unit)
        return {"user": self.profile(row, now.date()), **self._pair(user_id, session_id, refresh, row)}

    async def login(
        self, email: str, password: str, *, user_agent: str | None = None, ip: str | None = None
    ) -> dict[str, Any]:
        row = self.db.inline.one("SELECT * FROM users WHERE email = ? COLLATE NOCASE", (email.strip(),))
        if row is None:
            await asyncio.to_thread(burn_password_check, password, self.bcrypt_rounds)
            raise Unauthorized("email or password is wrong", code="invalid_credentials")
        if not await asyncio.to_thread(check_password, password, row["password_hash"]):
            raise Unauthorized("email or password is wrong", code="invalid_credentials")
        now = self.clock.now()
        blocked = users.is_blocked(row, now)
        if blocked:
            raise Forbidden(blocked, code="account_blocked")
        session_id, refresh = self.ids.new(), self.ids.token()
        await self.db.write(
            lambda conn: tokens.start_session(
                conn, session_id, row["id"], refresh, now, self.refresh_ttl, user_agent, ip
            )
        )
        return {"user": self.profile(row, now.date()), **self._pair(row["id"], session_id, refresh, row)}

    async def refresh(self, presented: str) -> dict[str, Any]:
        now = self.clock.now()
        new_refresh = self.ids.token()
        user_id, session_id = await self.db.write(
            lambda conn: tokens.rotate_refresh(conn, presented, new_refresh, now, self.refresh_ttl, self.reuse_leeway)
        )
        if not user_id:
            raise tokens.ReuseDetected("refresh token was already used; the session is revoked", field="refreshToken")
        row = self.db.inline.one("SELECT * FROM users WHERE id = ?", (user_id,))
        blocked = users.is_blocked(row, now)
        if blocked:
            raise Forbidden(blocked, code="account_blocked")
        return self._pair(user_id, session_id, new_refresh, row)

    async def logout(self, principal: Principal) -> None:
        now = self.clock.now()
        await self.db.write(lambda conn: tokens.revoke_session(conn, principal.session_id, now, "logout"))

    def authenticate(self, token: str) -> Principal:
        """Called on every authenticated request: verify the token, then check the
        account and session *now* (a ban or logout takes effect immediately, and
        changes made by the CLI from another process are seen)."""
        now = self.clock.now()
        claims = self.access.verify(token, now.timestamp())
        if self.visitor_of is not None and self.access.is_peer(claims.issuer):
            return self.visitor_of(claims)
        row = self.db.inline.one(
            "SELECT u.*, s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ?",
            (claims.session_id, claims.user_id),
        )
        if row is None:
            raise Unauthorized("unknown session", code="invalid_token")
        blocked = users.is_blocked(row, now)
        if blocked:
            raise Forbidden(blocked, code="account_blocked")
        if row["revoked_at"]:
            raise Unauthorized("this session has ended; log in again", code="session_revoked")
        return Principal(row["id"], claims.session_id, row["role"], row["email"], row["username"], row, claims.expires)
