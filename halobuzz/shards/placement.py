"""Where things live on a sharded deployment, and what a shard answers for things that live elsewhere.

- A user's home shard is the shard of their country: they register, log in, hold coins and
  get tokens there. Their tokens name it (iss = kid = shard).
- A stream lives on its host's shard (hosts go live at home).
- Another shard's user may watch, chat and gift in our rooms with their home token (every
  shard verifies every peer's tokens from the map); anything about their account (wallet,
  profile, sending a gift, buying coins) is their home shard's, so we answer 307 there.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .shardmap import Shard, ShardMap, ShardMapError, load_verified, public_b64

# Route prefixes about the caller's own account: served only by the caller's home shard.
HOME_ONLY_PREFIXES = (
    "/api/v1/me",
    "/api/v1/wallet",
    "/api/v1/payments",
    "/api/v1/og",
    "/api/v1/dms",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/shards/gifts",
)


@dataclass(frozen=True)
class Elsewhere:
    """The answer for a request that belongs to another shard."""

    shard: str
    url: str
    reason: str

    def location(self, path: str, query: str = "") -> str:
        base = urlsplit(self.url)
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path, query, ""))

    def as_error(self) -> dict:
        return {"code": "wrong_shard", "message": self.reason, "shard": self.shard, "url": self.url}


class Placement:
    def __init__(self, shard_map: ShardMap, shard: str) -> None:
        self.map, self.shard = shard_map, shard
        self.me = shard_map.shard(shard)

    def home_of_country(self, country: str) -> Shard | None:
        return self.map.shard_for_country(country)

    def for_registration(self, country: str) -> Elsewhere | None:
        """None if a user of `country` registers here; else where they must register."""
        home = self.home_of_country(country)
        if home is None:
            return Elsewhere(self.shard, self.me.url, f"no shard serves country {country.upper()}")
        if home.name == self.shard:
            return None
        return Elsewhere(home.name, home.url, f"users from {country.upper()} are served by shard {home.name}")

    def for_caller(self, token_issuer: str, path: str) -> Elsewhere | None:
        """A request carrying a peer shard's token for a route about the caller's own account."""
        if token_issuer == self.shard or not self.map.has(token_issuer):
            return None
        if path.startswith(HOME_ONLY_PREFIXES):
            home = self.map.shard(token_issuer)
            return Elsewhere(home.name, home.url, f"your account lives on shard {home.name}")
        return None

    def is_peer_user(self, token_issuer: str) -> bool:
        return token_issuer != self.shard and self.map.has(token_issuer)


def token_keys(shard_map: ShardMap, shard: str, own_key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    """Peer token keys from the verified map (kid = shard name). Refuses a map whose entry for this
    shard is not this shard's key: its peers would reject every token it signs."""
    if public_b64(own_key.public_key()) != shard_map.shard(shard).public_key:
        raise ShardMapError(
            f"the shard map's key for {shard!r} is not this shard's key "
            "(run `halobuzz shards pubkey` here and `shards add` it)"
        )
    return shard_map.peer_keys()


def load(
    map_path: str, operator_key: str, shard: str, own_key: Ed25519PrivateKey
) -> tuple[ShardMap, Placement, dict[str, Ed25519PublicKey]]:
    """What a shard does at start; raises ShardMapError (and the shard must not start) if anything is off."""
    from pathlib import Path

    if not operator_key.strip():
        raise ShardMapError("shard_map is set but shard_operator_key is empty: nothing to verify the map with")
    trusted = Path(operator_key).read_text() if Path(operator_key).is_file() else operator_key
    from .shardmap import load_public

    shard_map = load_verified(Path(map_path), public_b64(load_public(trusted)), shard)
    return shard_map, Placement(shard_map, shard), token_keys(shard_map, shard, own_key)
