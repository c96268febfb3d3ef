"""What a sharded appliance runs, built once by the composition root.

`load(settings, signing_key)` reads and verifies the map before anything else is built (the
token keys come from it); it raises ShardMapError and the appliance must not start. With no
`shard_map` setting the appliance is a single, unsharded one and this returns None.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..gifts.send import GiftPolicy
from ..wallet import wallet
from . import placement as placement_mod
from .exchange import ExchangeConfig, ShardExchange
from .messages import Signer
from .placement import Placement
from .shardmap import ShardMap
from .trending import GlobalTrending
from .visitors import Visitors

log = logging.getLogger("halobuzz.shards")


@dataclass(frozen=True)
class ShardConfig:
    shard: str
    map: ShardMap
    placement: Placement
    peer_keys: dict[str, Ed25519PublicKey]
    signing_key: Ed25519PrivateKey


def load(settings: Any, signing_key: Ed25519PrivateKey) -> ShardConfig | None:
    if not settings.shard_map:
        return None
    shard_map, place, peers = placement_mod.load(
        settings.shard_map, settings.shard_operator_key, settings.shard_id, signing_key
    )
    log.info(
        "shard map verified",
        extra={"shard": settings.shard_id, "version": shard_map.version, "shards": len(shard_map.shards)},
    )
    return ShardConfig(settings.shard_id, shard_map, place, peers, signing_key)


class Shards:
    def __init__(
        self,
        cfg: ShardConfig,
        settings: Any,
        db,
        clock,
        ids,
        visitors: Visitors,
        local_trending: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        """`local_trending`: this shard's top live rooms (the streams service's trending list)."""
        self.cfg, self.shard, self.map, self.placement = cfg, cfg.shard, cfg.map, cfg.placement
        self.visitors = visitors
        # Called with the NATS connection once it is up (the edge relay of the origin uses it).
        self.on_connected: list[Callable[[Any], Any]] = []
        spend = wallet.SpendPolicy(settings.spend_limit_adult, settings.spend_limit_minor)
        policy = GiftPolicy(settings.platform_fee_bps, settings.earnings_hold_days, settings.gift_combo_seconds, spend)
        self.exchange = ShardExchange(
            db,
            clock,
            ids,
            shard_map=cfg.map,
            shard=cfg.shard,
            signer=Signer(cfg.shard, cfg.signing_key),
            config=ExchangeConfig(
                settings.nats_url, gift_timeout=settings.shard_gift_timeout, replicas=settings.shard_stream_replicas
            ),
            gift_policy=policy,
            spend=spend,
        )
        self.trending = GlobalTrending(
            cfg.map,
            cfg.shard,
            self.exchange.signer,
            lambda: local_trending(),
            interval=settings.shard_trending_interval,
        )
        self._trending_task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.exchange.start()

        async def trending_when_connected():
            await self.exchange.ready.wait()
            await self.trending.start(self.exchange.nc)
            for start in self.on_connected:
                await start(self.exchange.nc)

        self._trending_task = asyncio.create_task(trending_when_connected(), name="shards-trending-start")

    async def stop(self) -> None:
        if self._trending_task is not None:
            self._trending_task.cancel()
            await asyncio.gather(self._trending_task, return_exceptions=True)
        await self.trending.stop()
        await self.exchange.stop()
