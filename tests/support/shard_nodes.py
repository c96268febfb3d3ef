"""Shard nodes without HTTP: a real SQLite database, a bus and a ShardExchange on a real NATS server.

Used by the exchange tests in-process, and run as a child process (`python -m
tests.support.shard_nodes DATA_DIR MAP OPERATOR_PUB SHARD NATS_URL`) by the kill -9 drills.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from halobuzz.accounts import users
from halobuzz.db import Database
from halobuzz.events import Bus
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy
from halobuzz.infra.clock import Clock, iso
from halobuzz.infra.ids import IdFactory, SystemRandom
from halobuzz.resources import assets_dir
from halobuzz.shards import shardmap
from halobuzz.shards.exchange import ExchangeConfig, ShardExchange
from halobuzz.shards.messages import Signer
from halobuzz.wallet import wallet

SPEND = wallet.SpendPolicy(0, 2000)
POLICY = GiftPolicy(3000, 7, 5, SPEND)


def make_map(tmp: Path, names_countries: dict[str, list[str]]) -> tuple[Path, str, dict[str, Path]]:
    """Operator key, one key per shard, a signed map. Returns (map path, operator pub b64, key paths)."""
    operator = Ed25519PrivateKey.generate()
    m = shardmap.new_map(operator.public_key())
    keys = {}
    for name, countries in names_countries.items():
        key = Ed25519PrivateKey.generate()
        keys[name] = tmp / f"{name}.pem"
        shardmap.write_private(keys[name], key)
        m = m.with_shard(
            shardmap.new_shard(name, countries, f"http://127.0.0.1/{name}", shardmap.public_b64(key.public_key()))
        )
    path = tmp / "shards.json"
    shardmap.write(path, m.signed(operator))
    return path, shardmap.public_b64(operator.public_key()), keys


def seed(db_path: Path, people: list[tuple[str, str]], streams: list[tuple[str, str]], coins: int = 0) -> None:
    """Users (id, country), live streams (id, host), gift catalog, and `coins` paid coins each."""
    from halobuzz.db.connection import connect
    from halobuzz.db.migrate import migrate

    conn = connect(db_path)
    migrate(conn)
    now = datetime.now(timezone.utc)
    with conn:
        catalog.seed(conn, catalog.load_seed(assets_dir()), now)
        for uid, country in people:
            users.insert_user(
                conn, uid, users.NewUser(f"{uid}@x.io", uid.lower(), "pw", country, "1990-01-01"), "hash", now, "user"
            )
            if coins:
                wallet.adjust(conn, f"grant:{uid}", uid, coins, "paid", "test coins", now)
        for sid, host in streams:
            conn.execute(
                "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES (?,?,?,?,?,?)",
                (sid, host, "t", "NP", "live", iso(now)),
            )
    conn.close()


class Node:
    def __init__(
        self,
        data_dir: Path,
        map_path: Path,
        operator: str,
        shard: str,
        key_path: Path,
        nats_url: str,
        gift_timeout: float = 30.0,
    ) -> None:
        self.shard = shard
        self.map = shardmap.load_verified(map_path, operator, shard)
        self.bus = Bus()
        self.events: list = []
        self.bus.subscribe(None, self.events.append)
        self.db = Database(
            Path(data_dir) / "halobuzz.db", synchronous="NORMAL", readers=2, publish=self.bus.publish_all
        )
        self.exchange = ShardExchange(
            self.db,
            Clock(),
            IdFactory(Clock(), SystemRandom()),
            shard_map=self.map,
            shard=shard,
            signer=Signer(shard, shardmap.load_private(key_path)),
            config=ExchangeConfig(nats_url, gift_timeout=gift_timeout, ack_wait=2.0, sweep_interval=0.5),
            gift_policy=POLICY,
            spend=SPEND,
        )

    async def start(self, wait_ready: bool = True) -> "Node":
        await self.db.open()
        await self.exchange.start()
        if wait_ready:
            await asyncio.wait_for(self.exchange.ready.wait(), 30)
        return self

    async def stop(self) -> None:
        await self.exchange.stop()
        await self.db.close()


async def _serve(argv: list[str]) -> None:
    data_dir, map_path, operator, shard, key_path, nats_url = argv
    node = await Node(Path(data_dir), Path(map_path), operator, shard, Path(key_path), nats_url).start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await node.stop()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1:]))
