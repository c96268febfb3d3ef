"""Access tokens (short-lived JWT, Ed25519) and rotating refresh tokens with reuse detection.

Access tokens are signed with EdDSA so every shard can verify its peers' tokens
from their published public keys; the `kid` header names the key, so a shard
can rotate its key while old tokens still verify. Refresh tokens are opaque
random strings stored only as sha256; each refresh kills the old one, and
presenting a dead one again (a stolen copy racing the owner) revokes the whole
session family.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import Unauthorized
from ..infra.clock import iso, parse_iso
from ..infra.crypto import sha256_hex

AUDIENCE = "halobuzz"
REUSE_LEEWAY = timedelta(seconds=30)
_CACHE_SIZE = 20_000


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Claims:
    user_id: str
    session_id: str
    issuer: str
    expires: float
    # On a sharded deployment: what a peer shard needs to show this user in its rooms
    # (name, cty, adult, og), signed by the home shard. None otherwise.
    visitor: dict[str, Any] | None = None


class AccessTokens:
    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        issuer: str,
        ttl: int,
        peer_keys: dict[str, Ed25519PublicKey] | None = None,
        kid: str | None = None,
    ) -> None:
        """`kid`: the key id in our tokens' header (on a sharded deployment, the shard's name, and
        `peer_keys` maps each peer shard's name to its key from the verified shard map)."""
        self._private = private_key
        self.kid = kid or key_id(private_key.public_key())
        self._peers = frozenset(k for k in (peer_keys or {}) if k != self.kid)
        self._sharded = bool(peer_keys)  # a shard map is in force (even a one-shard map, with edges)
        self.issuer = issuer
        self.ttl = ttl
        self._public: dict[str, Ed25519PublicKey] = {self.kid: private_key.public_key(), **(peer_keys or {})}
        # Verifying Ed25519 costs more than serving a small request; remember tokens
        # already verified (bounded) and re-check only their expiry.
        self._verified: OrderedDict[str, Claims] = OrderedDict()

    def public_jwks(self) -> dict[str, Any]:
        from jwt.algorithms import OKPAlgorithm

        keys = []
        for kid, pub in self._public.items():
            jwk = OKPAlgorithm.to_jwk(pub, as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
            keys.append(jwk)
        return {"keys": keys}

    def issue(self, user_id: str, session_id: str, now: datetime, visitor: dict[str, Any] | None = None) -> str:
        claims = {
            "sub": user_id,
            "sid": session_id,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.ttl,
        }
        if visitor is not None and self._sharded:
            claims["vis"] = visitor
        token = jwt.encode(claims, self._private, algorithm="EdDSA", headers={"kid": self.kid})
        # We just signed it: remember it as verified (saves the first verify, and lets the
        # rate limiter key the caller by account from the first request).
        self._remember(token, Claims(user_id, session_id, self.issuer, float(claims["exp"]), claims.get("vis")))
        return token

    def _remember(self, token: str, claims: Claims) -> None:
        self._verified[token] = claims
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)

    def verify(self, token: str, now: float) -> Claims:
        cached = self._verified.get(token)
        if cached is None:
            cached = self._decode(token, now)
            self._remember(token, cached)
        if cached.expires <= now:
            raise Unauthorized("access token expired", code="token_expired")
        return cached

    def cached_subject(self, token: str, now: float) -> str | None:
        """The user of a token this process already verified and that has not expired, else None.
        No cryptography: cheap enough for the rate limiter to key by account."""
        cached = self._verified.get(token)
        return cached.user_id if cached is not None and cached.expires > now else None

    def _decode(self, token: str, now: float) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            key = self._public.get(header.get("kid", ""))
            if key is None:
                raise Unauthorized("access token signed by an unknown key", code="invalid_token")
            data = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                options={"require": ["exp", "iat", "sub", "sid"], "verify_exp": False},
            )
        except (jwt.PyJWTError, ValueError) as exc:  # ValueError covers non-ASCII garbage
            raise Unauthorized(f"access token is not valid ({type(exc).__name__})", code="invalid_token") from None
        if not isinstance(data.get("sub"), str) or not isinstance(data.get("sid"), str):
            raise Unauthorized("access token is not valid", code="invalid_token")
        if header.get("kid") in self._peers and data.get("iss") != header.get("kid"):
            # A peer shard vouches only for its own users.
            raise Unauthorized("access token issuer does not match its signing shard", code="invalid_token")
        visitor = data.get("vis") if isinstance(data.get("vis"), dict) else None
        return Claims(data["sub"], data["sid"], str(data.get("iss", "")), float(data["exp"]), visitor)

    @property
    def sharded(self) -> bool:
        return self._sharded

    def is_peer(self, issuer: str) -> bool:
        """A token of another shard of the map (its user is a visitor here)."""
        return issuer in self._peers


# -- sessions and refresh tokens (write units) ----------------------------------------


def start_session(
    conn: sqlite3.Connection,
    session_id: str,
    user_id: str,
    refresh_token: str,
    now: datetime,
    ttl: int,
    user_agent: str | None,
    ip: str | None,
) -> None:
    conn.execute(
        "INSERT INTO sessions(id, user_id, created_at, user_agent, ip) VALUES (?,?,?,?,?)",
        (session_id, user_id, iso(now), (user_agent or "")[:300], ip),
    )
    _store_refresh(conn, session_id, refresh_token, now, ttl)


def _store_refresh(conn: sqlite3.Connection, session_id: str, token: str, now: datetime, ttl: int) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens(token_hash, session_id, issued_at, expires_at) VALUES (?,?,?,?)",
        (sha256_hex(token), session_id, iso(now), iso(now + timedelta(seconds=ttl))),
    )


class ReuseDetected(Unauthorized):
    code = "refresh_token_reused"


def rotate_refresh(
    conn: sqlite3.Connection, presented: str, new_token: str, now: datetime, ttl: int, leeway: timedelta = REUSE_LEEWAY
) -> tuple[str, str]:
    """Exchange a live refresh token for a new one. Returns (user_id, session_id).

    On reuse of a dead token the session is revoked *and that revocation is
    committed* (we return it as a result, not an exception, so the savepoint
    keeps it); the caller then answers 401.
    """
    row = conn.execute(
        "SELECT r.session_id, r.expires_at, r.used_at, s.user_id, s.revoked_at "
        "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?",
        (sha256_hex(presented),),
    ).fetchone()
    if row is None:
        raise Unauthorized("refresh token is not valid", code="invalid_token", field="refreshToken")
    if row["revoked_at"]:
        raise Unauthorized("this session has ended; log in again", code="session_revoked", field="refreshToken")
    if row["used_at"]:
        if now - parse_iso(row["used_at"]) < leeway:
            # The owner retrying after a lost response (flaky mobile network): the successor
            # minted before is replaced, not joined (a session has ONE live refresh token), so a
            # replay within the leeway cannot fork the session. Presenting the replaced successor
            # later is reuse and revokes the session. A thief replaying later is still caught.
            _supersede_live(conn, row["session_id"], now)
            _store_refresh(conn, row["session_id"], new_token, now, ttl)
            return (row["user_id"], row["session_id"])
        revoke_session(conn, row["session_id"], now, "refresh token reuse")
        return ("", row["session_id"])
    if parse_iso(row["expires_at"]) <= now:
        raise Unauthorized("refresh token expired", code="token_expired", field="refreshToken")
    conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (iso(now), sha256_hex(presented)))
    _supersede_live(conn, row["session_id"], now)
    _store_refresh(conn, row["session_id"], new_token, now, ttl)
    return (row["user_id"], row["session_id"])


def _supersede_live(conn: sqlite3.Connection, session_id: str, now: datetime) -> None:
    """Retire every still-live refresh token of the session before its one successor is stored."""
    conn.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE session_id = ? AND used_at IS NULL", (iso(now), session_id)
    )


def revoke_session(conn: sqlite3.Connection, session_id: str, now: datetime, reason: str) -> None:
    conn.execute(
        "UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, ?)"
        " WHERE id = ?",
        (iso(now), reason, session_id),
    )
