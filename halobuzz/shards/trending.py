"""Trending across shards: each shard publishes its top live rooms every few seconds on a NATS
core subject (`<rooms subject>.trending`, signed like every shard message); every shard keeps
its peers' latest lists and merges them with its own, each room tagged with its shard and URL.

Core NATS (not JetStream) on purpose: a lost list is replaced by the next one, and a list
older than `stale_after` is dropped, so a shard that went away leaves the global view.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from .messages import BadMessage, Signer, Verifier
from .shardmap import ShardMap

log = logging.getLogger("halobuzz.shards")
TRENDING = "trending"


def subject_of(shard_map: ShardMap, shard: str) -> str:
    return f"{shard_map.shard(shard).subjects['rooms']}.trending"


class GlobalTrending:
    def __init__(
        self,
        shard_map: ShardMap,
        shard: str,
        signer: Signer,
        local: Callable[[], list[dict[str, Any]]],
        *,
        interval: float = 5.0,
        top: int = 20,
    ) -> None:
        self.map, self.shard, self.signer, self.local = shard_map, shard, signer, local
        # Trending lists are broadcast: addressed to no one in particular, verified by sender key.
        self.verifier = Verifier(shard, shard_map.peer_keys())
        self.interval, self.top = interval, top
        self.stale_after = 3 * interval
        self._peers: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._task: asyncio.Task | None = None
        self._subs: list[Any] = []

    async def start(self, nc) -> None:
        for s in self.map.shards:
            if s.name != self.shard:
                self._subs.append(await nc.subscribe(subject_of(self.map, s.name), cb=self._received))
        self._task = asyncio.create_task(self._publish_loop(nc), name="shards-trending")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - connection already gone
                pass
        self._subs = []

    async def _publish_loop(self, nc) -> None:
        subject = subject_of(self.map, self.shard)
        while True:
            try:
                items = self.local()[: self.top]
                await nc.publish(
                    subject,
                    self.signer.sign(TRENDING, "*", {"id": f"{self.shard}:{time.time()}", "items": items}).encode(),
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS down: the next round tries again
                log.debug("trending publish failed: %r", exc)
            await asyncio.sleep(self.interval)

    async def _received(self, msg) -> None:
        try:
            claims = self.verifier.verify(msg.data, kinds=(TRENDING,))
        except BadMessage as exc:
            log.warning("refused a trending list", extra={"error": str(exc)})
            return
        items = claims.get("items")
        if isinstance(items, list):
            self._peers[claims["from"]] = (time.monotonic(), [i for i in items if isinstance(i, dict)][: self.top])

    def merged(self, limit: int = 50) -> list[dict[str, Any]]:
        """Every fresh shard's top rooms, highest trending score first, tagged with shard and URL."""
        now = time.monotonic()
        out = [{**item, "shard": self.shard, "shardUrl": self.map.shard(self.shard).url} for item in self.local()]
        for name, (at, items) in list(self._peers.items()):
            if now - at > self.stale_after or not self.map.has(name):
                continue
            url = self.map.shard(name).url
            out += [{**item, "shard": name, "shardUrl": url} for item in items]
        out.sort(key=lambda i: -float(i.get("trendingScore") or 0))
        return out[:limit]
