"""Kill -9 the server at random instants during a storm of concurrent gifts.

After each restart: every acknowledged gift is in the ledger exactly once, no
coin was created or lost, `halobuzz ledger verify` passes, and retrying every
unacknowledged request with its Idempotency-Key applies it at most once.
"""

import random
import sqlite3
import threading
import time
import uuid

import httpx
import pytest

from tests.conftest import Server, cli, register

pytestmark = pytest.mark.slow
GRANT = 100_000
PRICES = {"rose": 1, "heart": 5, "momo": 10, "rhino": 99}


def live_room_with_viewers(srv, prefix: str, count: int, coins: int):
    """A host live in a fresh stream and `count` viewers holding `coins` each (granted by the CLI)."""
    with srv.client() as c:
        host = register(c, f"{prefix}host")
        viewers = [register(c, f"{prefix}{i}") for i in range(count)]
        sid = c.post("/api/v1/streams", json={"title": prefix}, headers=host["auth"]).json()["id"]
        assert c.post(f"/api/v1/streams/{sid}/start", headers=host["auth"]).status_code == 200
    for v in viewers:
        assert (
            cli(
                srv.data_dir,
                "coins",
                "grant",
                "--user",
                v["user"]["username"],
                "--amount",
                str(coins),
                "--reason",
                prefix,
            ).returncode
            == 0
        )
    return viewers, sid


def storm(url, viewers, sid, stop, acked, attempted, lock):
    rnd = random.Random()
    with httpx.Client(base_url=url, timeout=5.0) as c:
        while not stop.is_set():
            v = rnd.choice(viewers)
            gift, qty = rnd.choice(list(PRICES)), rnd.randint(1, 3)
            k = uuid.uuid4().hex
            with lock:
                attempted[k] = (v["user"]["id"], gift, qty, v["auth"])
            try:
                r = c.post(
                    f"/api/v1/streams/{sid}/gifts",
                    json={"giftId": gift, "quantity": qty},
                    headers={**v["auth"], "Idempotency-Key": k},
                )
            except httpx.HTTPError:
                continue  # the server died under us: unacknowledged
            if r.status_code == 201:
                with lock:
                    acked[k] = r.json()["coins"]


def test_sigkill_during_gift_storm_loses_and_creates_nothing(tmp_path):
    data = tmp_path / "data"
    srv = Server(data).start()
    viewers, sid = live_room_with_viewers(srv, "storm", 6, GRANT)
    acked, attempted, lock = {}, {}, threading.Lock()
    rounds = 3
    for _ in range(rounds):
        stop = threading.Event()
        workers = [
            threading.Thread(target=storm, args=(srv.url, viewers, sid, stop, acked, attempted, lock))
            for _ in range(12)
        ]
        for w in workers:
            w.start()
        time.sleep(random.uniform(0.4, 1.5))
        srv.kill()  # SIGKILL, mid-storm
        stop.set()
        for w in workers:
            w.join()
        srv = Server(data).start()
    srv.stop()
    assert len(acked) > 50, "the storm should have landed gifts before each kill"

    db = sqlite3.connect(data / "halobuzz.db")
    keys = {row[0] for row in db.execute("SELECT key FROM ledger_tx WHERE kind = 'gift'")}
    for k in acked:
        user_id = attempted[k][0]
        assert f"gift:{user_id}:{k}" in keys, "an acknowledged gift is missing after the crash"
    # ... and each is in the ledger for exactly the coins we were told.
    debits = dict(
        db.execute(
            "SELECT t.key, -SUM(e.amount) FROM ledger_tx t JOIN ledger_entries e ON e.tx_id = t.id "
            "WHERE t.kind = 'gift' AND e.account_id LIKE '%:paid' GROUP BY t.key"
        )
    )
    for k, coins in acked.items():
        assert debits[f"gift:{attempted[k][0]}:{k}"] == coins
    # Every committed gift came from an attempt, once.
    attempted_keys = {f"gift:{u}:{k}" for k, (u, *_rest) in attempted.items()}
    assert keys <= attempted_keys
    assert db.execute("SELECT COALESCE(SUM(balance),0) FROM ledger_accounts").fetchone()[0] == 0
    for v in viewers:
        spent = db.execute(
            "SELECT COALESCE(-SUM(e.amount),0) FROM ledger_entries e WHERE e.account_id = ? AND e.amount < 0",
            (v["user"]["id"] + ":paid",),
        ).fetchone()[0]
        bal = db.execute("SELECT balance FROM ledger_accounts WHERE id = ?", (v["user"]["id"] + ":paid",)).fetchone()[0]
        assert bal == GRANT - spent
    total = db.execute("SELECT total_coins FROM streams WHERE id = ?", (sid,)).fetchone()[0]
    assert (
        total
        == db.execute("SELECT COALESCE(SUM(coins),0) FROM stream_gifters WHERE stream_id = ?", (sid,)).fetchone()[0]
    )
    db.close()
    verify = cli(data, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout

    # Retrying every request whose answer was lost applies it at most once.
    srv = Server(data).start()
    try:
        with srv.client() as c:
            for k, (user_id, gift, qty, auth) in list(attempted.items())[:400]:
                if k in acked:
                    continue
                r = c.post(
                    f"/api/v1/streams/{sid}/gifts",
                    json={"giftId": gift, "quantity": qty},
                    headers={**auth, "Idempotency-Key": k},
                )
                committed_before = f"gift:{user_id}:{k}" in keys
                if committed_before:
                    assert r.status_code == 201 and r.headers.get("idempotent-replayed") == "true"
    finally:
        srv.stop()
    assert cli(data, "ledger", "verify").returncode == 0
