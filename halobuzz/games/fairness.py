"""Provable fairness: commit to a secret server seed, draw from HMAC, reveal afterwards.

Before a round the server publishes `seedHash = sha256(serverSeed)` (hex of the ASCII hex
seed). Every random choice of the round is

    digest = HMAC-SHA256(key = serverSeed (ASCII), msg = f"{clientSeedsHash}:{roundId}:{nonce}")

where `clientSeedsHash = sha256("\\n".join(clientSeeds))` over the players' seeds in entry
order (so a 100k-ticket lottery still has a short message) and `nonce` numbers the draws of
the round (0, 1, 2 ...). The first 6 bytes of the digest, read big-endian, are a uniform
48-bit integer `u`; integer arithmetic turns it into a choice, never floats:

* pick among n:          index = u * n >> 48
* an event of p (in basis points of 10000): happens iff u * 10000 < p_bps * 2**48

After the round the seed is revealed; anyone can recompute every choice (see
`halobuzz games verify`, the proof route, and the console's WebCrypto check).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

U_BITS = 48
U_RANGE = 1 << U_BITS
BPS = 10_000


def new_server_seed() -> str:
    """32 bytes from the OS CSPRNG, as hex (the form that is hashed, keyed and revealed)."""
    return secrets.token_hex(32)


def commitment(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode("ascii")).hexdigest()


def client_seeds_hash(client_seeds: list[str]) -> str:
    return hashlib.sha256("\n".join(client_seeds).encode("utf-8")).hexdigest()


def digest(server_seed: str, seeds_hash: str, round_id: str, nonce: int) -> bytes:
    msg = f"{seeds_hash}:{round_id}:{nonce}".encode("utf-8")
    return hmac.new(server_seed.encode("ascii"), msg, hashlib.sha256).digest()


def uniform(server_seed: str, seeds_hash: str, round_id: str, nonce: int) -> int:
    return int.from_bytes(digest(server_seed, seeds_hash, round_id, nonce)[:6], "big")


def pick(u: int, n: int) -> int:
    if n <= 0:
        raise ValueError("pick needs n >= 1")
    return (u * n) >> U_BITS


def happens(u: int, p_bps: int) -> bool:
    return u * BPS < p_bps * U_RANGE


class Draws:
    """The draws of one round, nonce by nonce, in the order the game asks for them. Each draw
    is logged (nonce, kind, input, result) so the proof lists what to recompute."""

    def __init__(self, server_seed: str, seeds_hash: str, round_id: str, start: int = 0) -> None:
        self.server_seed, self.seeds_hash, self.round_id = server_seed, seeds_hash, round_id
        self.nonce = start
        self.log: list[dict] = []

    def next_u(self) -> tuple[int, int]:
        n = self.nonce
        self.nonce += 1
        return n, uniform(self.server_seed, self.seeds_hash, self.round_id, n)

    def pick(self, n: int, use: str = "") -> int:
        nonce, u = self.next_u()
        result = pick(u, n)
        self.log.append({"nonce": nonce, "kind": "pick", "n": n, "result": result, "use": use})
        return result

    def happens(self, p_bps: int, use: str = "") -> bool:
        nonce, u = self.next_u()
        result = happens(u, p_bps)
        self.log.append({"nonce": nonce, "kind": "happens", "pBps": p_bps, "result": result, "use": use})
        return result

    def distinct(self, k: int, n: int, use: str = "") -> list[int]:
        """k distinct indexes out of n (fewer if n < k): a repeat just takes the next nonce."""
        chosen: list[int] = []
        while len(chosen) < min(k, n):
            i = self.pick(n, use)
            if i not in chosen:
                chosen.append(i)
        return chosen


def recompute(server_seed: str, seeds_hash: str, round_id: str, draw: dict) -> object:
    """One logged draw recomputed from the revealed seed (what `games verify` checks)."""
    u = uniform(server_seed, seeds_hash, round_id, int(draw["nonce"]))
    if draw["kind"] == "pick":
        return pick(u, int(draw["n"]))
    if draw["kind"] == "happens":
        return happens(u, int(draw["pBps"]))
    raise ValueError(f"unknown draw kind {draw['kind']!r}")


def verify_commitment(server_seed: str, seed_hash: str) -> bool:
    return hmac.compare_digest(commitment(server_seed), seed_hash)
