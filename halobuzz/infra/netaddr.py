"""Which address a request came from, behind trusted proxies."""

from __future__ import annotations


def client_ip(peer: str, forwarded_for: str, trusted: tuple[str, ...]) -> str:
    """The peer, unless it is a trusted proxy: then the right-most X-Forwarded-For hop
    that is not one of ours (hops to its left could be forged by the client)."""
    if trusted and peer in trusted:
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if hop not in trusted:
                return hop
    return peer
