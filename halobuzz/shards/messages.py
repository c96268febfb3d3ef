"""Messages between shards: compact JWS (EdDSA) signed by the sending shard's key, kid = shard name.

pyjwt does the signing and checking (the same library and key type as access tokens).
A message is only believed if its kid names a shard of the verified map, its signature
verifies under that shard's key, it says it is from that shard and addressed to us.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GIFT, CANCEL, RECEIPT, TRENDING = "gift", "cancel", "receipt", "trending"
KINDS = (GIFT, CANCEL, RECEIPT)
BROADCAST = (TRENDING,)  # addressed to "*": every shard may read them
AUDIENCE = "halobuzz-shards"


class BadMessage(ValueError):
    """Unsigned, forged, misaddressed or malformed: never acted on (acked and logged)."""


class Signer:
    def __init__(self, shard: str, key: Ed25519PrivateKey) -> None:
        self.shard, self._key = shard, key

    def sign(self, kind: str, to: str, body: dict[str, Any]) -> str:
        claims = {**body, "typ": kind, "from": self.shard, "to": to, "aud": AUDIENCE}
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.shard})


class Verifier:
    def __init__(self, shard: str, peer_keys: dict[str, Ed25519PublicKey]) -> None:
        self.shard, self._keys = shard, peer_keys

    def verify(self, token: str | bytes, kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            key = self._keys.get(kid)
            if key is None:
                raise BadMessage(f"message signed by unknown shard {kid!r}")
            claims = jwt.decode(
                token, key, algorithms=["EdDSA"], audience=AUDIENCE, options={"require": ["typ", "from", "to", "id"]}
            )
        except (jwt.PyJWTError, ValueError) as exc:
            if isinstance(exc, BadMessage):
                raise
            raise BadMessage(f"message does not verify ({type(exc).__name__}: {exc})") from None
        if claims["from"] != kid:
            raise BadMessage(f"message from {claims['from']!r} signed by {kid!r}")
        if claims["typ"] not in kinds:
            raise BadMessage(f"unexpected message type {claims['typ']!r}")
        if claims["to"] != self.shard and not (claims["to"] == "*" and claims["typ"] in BROADCAST):
            raise BadMessage(f"message for {claims['to']!r} reached {self.shard!r}")
        return claims
