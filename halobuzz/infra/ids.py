"""Identifiers: sortable, unique across shards, and drawn from an injected random source.

A new id is 48 bits of milliseconds + 80 random bits in Crockford base32 (ULID layout),
so ids sort by creation time and two shards never collide.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from .clock import Clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class RandomSource(Protocol):
    def token_bytes(self, n: int) -> bytes: ...


class SystemRandom:
    """Cryptographically secure randomness (the `secrets` module)."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)


class SeededRandom:
    """Deterministic randomness for tests only."""

    def __init__(self, seed: int = 0) -> None:
        import random

        self._rng = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self._rng.randbytes(n)


class IdFactory:
    def __init__(self, clock: Clock, rand: RandomSource) -> None:
        self.clock = clock
        self.rand = rand

    def new(self) -> str:
        ms = int(self.clock.timestamp() * 1000) & ((1 << 48) - 1)
        value = (ms << 80) | int.from_bytes(self.rand.token_bytes(10), "big")
        chars = []
        for _ in range(26):
            chars.append(_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))

    def token(self, nbytes: int = 32) -> str:
        import base64

        return base64.urlsafe_b64encode(self.rand.token_bytes(nbytes)).rstrip(b"=").decode()
