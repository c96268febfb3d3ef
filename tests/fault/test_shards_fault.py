"""kill -9 the destination shard, and separately the NATS server, in the middle of a cross-shard
gift storm; restart them; then every gift the origin acknowledged (committed) is settled exactly
once: credited on the destination (and settled on the origin) or refunded; transit accounts are
zero, nothing is in flight, the export/import books agree and both ledgers verify."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from halobuzz.db.connection import connect
from halobuzz.shards import transfers
from halobuzz.wallet import ledger
from tests.support.natsd import NatsServer
from tests.support.shard_nodes import Node, make_map, seed

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VIEWERS = [f"V{i}" for i in range(5)]


class ChildShard:
    """Shard B as its own process (tests/support/shard_nodes.py), so it can be kill -9'd."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args, self.log_path, self.proc = args, log, None

    def start(self) -> "ChildShard":
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.shard_nodes", *self.args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        line = self.proc.stdout.readline()
        assert line.strip() == b"ready", self.log_path.read_text()[-2000:]
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self._close()

    def _close(self) -> None:
        self.log.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _books(path: Path) -> dict:
    conn = connect(path)
    try:
        assert ledger.verify_balances(conn) == [], path
        assert ledger.verify_chain(conn) == [], path
        rec = transfers.reconcile(conn)
        rec["out"] = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM shard_transfers_out")}
        rec["in"] = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM shard_transfers_in")}
        rec["in_keys"] = conn.execute("SELECT COUNT(*) FROM ledger_tx WHERE kind = 'gift_in'").fetchone()[0]
        rec["paid"] = {
            r["id"]: r["balance"]
            for r in conn.execute("SELECT id, balance FROM ledger_accounts WHERE id LIKE 'V%:paid'")
        }
        return rec
    finally:
        conn.close()


async def _storm(a: Node, stop: asyncio.Event, acked: dict) -> None:
    rnd = random.Random(7)
    n = 0
    while not stop.is_set():
        n += 1
        v = rnd.choice(VIEWERS)
        status, body, _ = await a.exchange.send_gift(
            v, "in", "S1", rnd.choice(["rose", "heart", "momo"]), rnd.randint(1, 3), f"storm-{n:06d}"
        )
        assert status == 202
        acked[body["transferId"]] = body["coins"]
        await asyncio.sleep(0.005)


async def _settled(a: Node, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await a.db.readers.fetchone(
            "SELECT COUNT(*) AS n FROM shard_transfers_out WHERE status IN ('pending','cancelling')"
        )
        unsent = await a.db.readers.fetchone("SELECT COUNT(*) AS n FROM shard_outbox WHERE published_at IS NULL")
        if row["n"] == 0 and unsent["n"] == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{row['n']} transfers still open after {timeout}s")


@pytest.mark.parametrize("victim", ["shard", "nats"])
def test_kill9_mid_cross_shard_gift_storm(tmp_path, victim):
    map_path, operator, keys = make_map(tmp_path, {"np": ["NP"], "in": ["IN"]})
    (tmp_path / "np").mkdir()
    (tmp_path / "in").mkdir()
    seed(tmp_path / "np" / "halobuzz.db", [(v, "NP") for v in VIEWERS], [], coins=1_000_000)
    seed(tmp_path / "in" / "halobuzz.db", [("H1", "IN")], [("S1", "H1")])
    nats = NatsServer(tmp_path / "nats").start()
    b = ChildShard(
        [str(tmp_path / "in"), str(map_path), operator, "in", str(keys["in"]), nats.url], tmp_path / "b.log"
    ).start()
    acked: dict[str, int] = {}

    async def run():
        # a short gift timeout so some transfers go through cancel -> refused while B or NATS is down
        a = await Node(tmp_path / "np", map_path, operator, "np", keys["np"], nats.url, gift_timeout=2.0).start()
        try:
            for rnd in range(2):
                stop = asyncio.Event()
                task = asyncio.create_task(_storm(a, stop, acked))
                await asyncio.sleep(1.0 + rnd * 0.5)
                if victim == "shard":
                    b.kill()
                else:
                    nats.kill()
                await asyncio.sleep(2.5)  # the storm goes on; timeouts fire
                if victim == "shard":
                    b.start()
                else:
                    nats.start()
                await asyncio.sleep(1.0)
                stop.set()
                await task
            await _settled(a, 90)
        finally:
            await a.stop()

    try:
        asyncio.run(run())
    finally:
        b.stop()
        nats.stop()
    ra, rb = _books(tmp_path / "np" / "halobuzz.db"), _books(tmp_path / "in" / "halobuzz.db")
    outcomes = list(ra["out"].values())
    print(
        f"\n{victim}: {len(acked)} gifts acked, credited {outcomes.count('credited')}, "
        f"refused {outcomes.count('refused')}"
    )
    assert len(acked) > 50
    assert set(ra["out"]) == set(acked)
    assert ra["ok"] and ra["inFlight"] == [] and ra["outboxUnsent"] == 0
    assert ra["peers"]["in"]["transit"] == 0
    # each transfer has one decision on B, and A followed it
    credited = {t for t, s in ra["out"].items() if s == "credited"}
    refused = {t for t, s in ra["out"].items() if s == "refused"}
    assert credited | refused == set(acked)
    assert {t for t, s in rb["in"].items() if s == "credited"} == credited
    assert {t for t, s in rb["in"].items() if s == "refused"} == refused
    assert rb["in_keys"] == len([t for t in credited])  # one ledger credit each (every gift here has paid coins)
    assert ra["peers"]["in"]["exported"] == rb["peers"]["np"]["imported"]
    spent = sum(acked[t] for t in credited)
    assert sum(ra["paid"].values()) == len(VIEWERS) * 1_000_000 - spent


def test_three_node_nats_cluster_loses_a_server_mid_storm(tmp_path):
    """The packaging example's shape: JetStream on a 3-server cluster, the stream at 3 replicas.
    kill -9 one server during the storm: every gift still settles exactly once."""
    from tests.support.natsd import _free_port

    routes = [_free_port() for _ in range(3)]
    servers = [
        NatsServer(
            tmp_path / f"nats{i}", cluster={"name": "hb", "server_name": f"n{i}", "port": routes[i], "routes": routes}
        )
        for i in range(3)
    ]
    for s in servers:
        s.proc = None
    import threading

    threads = [threading.Thread(target=s.start, kwargs={"timeout": 30}) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    urls = ",".join(s.url for s in servers)
    map_path, operator, keys = make_map(tmp_path, {"np": ["NP"], "in": ["IN"]})
    (tmp_path / "np").mkdir()
    (tmp_path / "in").mkdir()
    seed(tmp_path / "np" / "halobuzz.db", [(v, "NP") for v in VIEWERS], [], coins=1_000_000)
    seed(tmp_path / "in" / "halobuzz.db", [("H1", "IN")], [("S1", "H1")])
    acked: dict[str, int] = {}

    async def run():
        # JetStream needs a meta leader before streams can be made: Node.start waits for `ready`
        a = Node(tmp_path / "np", map_path, operator, "np", keys["np"], urls, gift_timeout=5.0)
        b = Node(tmp_path / "in", map_path, operator, "in", keys["in"], urls, gift_timeout=5.0)
        for n in (a, b):
            n.exchange.config = type(n.exchange.config)(**{**n.exchange.config.__dict__, "replicas": 3})
        await a.start()
        await b.start()
        try:
            stop = asyncio.Event()
            task = asyncio.create_task(_storm(a, stop, acked))
            await asyncio.sleep(1.5)
            servers[0].kill()
            await asyncio.sleep(3.0)
            stop.set()
            await task
            await _settled(a, 90)
        finally:
            await a.stop()
            await b.stop()

    try:
        asyncio.run(run())
    finally:
        for s in servers:
            s.stop()
    ra, rb = _books(tmp_path / "np" / "halobuzz.db"), _books(tmp_path / "in" / "halobuzz.db")
    assert len(acked) > 20 and set(ra["out"]) == set(acked)
    assert ra["ok"] and ra["inFlight"] == [] and ra["peers"]["in"]["transit"] == 0
    assert {t for t, s in ra["out"].items() if s == "credited"} == {t for t, s in rb["in"].items() if s == "credited"}
    assert ra["peers"]["in"]["exported"] == rb["peers"]["np"]["imported"]
