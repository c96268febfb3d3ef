"""Cross-shard gifts over a real nats-server (JetStream): two shard databases in one process."""

from __future__ import annotations

import asyncio
import time

import pytest

from halobuzz.db.connection import connect
from halobuzz.shards import transfers
from halobuzz.wallet import ledger
from tests.support.natsd import NatsServer
from tests.support.shard_nodes import Node, make_map, seed


@pytest.fixture()
def nats(tmp_path):
    srv = NatsServer(tmp_path / "nats").start()
    yield srv
    srv.stop()


@pytest.fixture()
def two_shards(tmp_path):
    map_path, operator, keys = make_map(tmp_path, {"np": ["NP"], "in": ["IN"]})
    (tmp_path / "np").mkdir()
    (tmp_path / "in").mkdir()
    seed(tmp_path / "np" / "halobuzz.db", [("V1", "NP"), ("V2", "NP")], [], coins=10_000)
    seed(tmp_path / "in" / "halobuzz.db", [("H1", "IN")], [("S1", "H1")])
    return tmp_path, map_path, operator, keys


async def _until(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await pred():
            return True
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def _ledgers_ok(path):
    conn = connect(path)
    try:
        assert ledger.verify_balances(conn) == []
        assert ledger.verify_chain(conn) == []
        return transfers.reconcile(conn)
    finally:
        conn.close()


def test_gift_crosses_shards_once_and_settles(two_shards, nats):
    tmp, map_path, operator, keys = two_shards

    async def run():
        a = await Node(tmp / "np", map_path, operator, "np", keys["np"], nats.url).start()
        b = await Node(tmp / "in", map_path, operator, "in", keys["in"], nats.url).start()
        try:
            status, body, replayed = await a.exchange.send_gift("V1", "in", "S1", "rose", 3, "key-00000001")
            assert status == 202 and body["status"] == "pending" and not replayed
            again = await a.exchange.send_gift("V1", "in", "S1", "rose", 3, "key-00000001")
            assert again[2] is True and again[1]["transferId"] == body["transferId"]

            async def settled():
                r = await a.db.readers.fetchone(
                    "SELECT status FROM shard_transfers_out WHERE id = ?", (body["transferId"],)
                )
                return r["status"] == "credited"

            await _until(settled)
            held = await b.db.readers.fetchone("SELECT balance FROM ledger_accounts WHERE id = 'H1:held'")
            assert held["balance"] > 0
            assert any(e.name == "gift:sent" and e.room == "S1" and e.data["senderShard"] == "np" for e in b.events)
            # refused: no such stream on the destination -> refunded on the origin
            _, body2, _ = await a.exchange.send_gift("V2", "in", "NOPE", "rose", 1, "key-00000002")

            async def refunded():
                r = await a.db.readers.fetchone(
                    "SELECT status, reason FROM shard_transfers_out WHERE id = ?", (body2["transferId"],)
                )
                return r["status"] == "refused"

            await _until(refunded)
            bal = await a.db.readers.fetchone("SELECT balance FROM ledger_accounts WHERE id = 'V2:paid'")
            assert bal["balance"] == 10_000
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(run())
    rec_a = _ledgers_ok(tmp / "np" / "halobuzz.db")
    rec_b = _ledgers_ok(tmp / "in" / "halobuzz.db")
    assert rec_a["ok"] and rec_a["inFlight"] == [] and rec_a["peers"]["in"]["transit"] == 0
    assert rec_a["peers"]["in"]["exported"] == rec_b["peers"]["np"]["imported"] > 0


def test_gifts_wait_in_the_outbox_while_nats_is_down(two_shards, tmp_path):
    tmp, map_path, operator, keys = two_shards
    nats = NatsServer(tmp_path / "late-nats")  # port chosen, not started yet

    async def run():
        a = await Node(tmp / "np", map_path, operator, "np", keys["np"], nats.url).start(wait_ready=False)
        b = await Node(tmp / "in", map_path, operator, "in", keys["in"], nats.url).start(wait_ready=False)
        try:
            _, body, _ = await a.exchange.send_gift("V1", "in", "S1", "heart", 1, "key-00000009")
            row = await a.db.readers.fetchone("SELECT COUNT(*) AS n FROM shard_outbox WHERE published_at IS NULL")
            assert row["n"] == 1  # committed with the debit, not yet published
            await asyncio.to_thread(nats.start)

            async def settled():
                r = await a.db.readers.fetchone(
                    "SELECT status FROM shard_transfers_out WHERE id = ?", (body["transferId"],)
                )
                return r["status"] == "credited"

            await _until(settled, 30)
        finally:
            await a.stop()
            await b.stop()
            nats.stop()

    asyncio.run(run())
    assert _ledgers_ok(tmp / "np" / "halobuzz.db")["ok"]


def test_trending_merges_every_shards_top_rooms(two_shards, nats):
    from halobuzz.shards.messages import Signer
    from halobuzz.shards.shardmap import load_private
    from halobuzz.shards.trending import GlobalTrending

    tmp, map_path, operator, keys = two_shards

    async def run():
        a = await Node(tmp / "np", map_path, operator, "np", keys["np"], nats.url).start()
        b = await Node(tmp / "in", map_path, operator, "in", keys["in"], nats.url).start()
        ta = GlobalTrending(
            a.map,
            "np",
            Signer("np", load_private(keys["np"])),
            lambda: [{"id": "SA", "trendingScore": 5.0}],
            interval=0.1,
        )
        tb = GlobalTrending(
            b.map,
            "in",
            Signer("in", load_private(keys["in"])),
            lambda: [{"id": "SB", "trendingScore": 9.0}, {"id": "SC", "trendingScore": 1.0}],
            interval=0.1,
        )
        # a forged list (right subject, wrong key) is ignored
        forger = GlobalTrending(
            b.map,
            "in",
            Signer("in", load_private(keys["np"])),
            lambda: [{"id": "EVIL", "trendingScore": 99.0}],
            interval=0.1,
        )
        await ta.start(a.exchange.nc)
        await tb.start(b.exchange.nc)
        await forger.start(b.exchange.nc)
        try:

            async def merged():
                return [(i["id"], i["shard"]) for i in ta.merged()] == [("SB", "in"), ("SA", "np"), ("SC", "in")]

            await _until(merged, 10)
            assert tb.merged()[0]["shardUrl"] == "http://127.0.0.1/in"
            await tb.stop()
            await forger.stop()
            await asyncio.sleep(0.5)  # > 3 intervals: the silent shard leaves the global view
            assert [i["id"] for i in ta.merged()] == ["SA"]
        finally:
            await ta.stop()
            await a.stop()
            await b.stop()

    asyncio.run(run())
