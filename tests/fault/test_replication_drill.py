"""Replication drills (slow; CI runs them in the binary/ops step).

* Loss drill: write continuously through the API, SIGKILL Litestream and the server at the
  same instant (a lost machine), restore on a "new machine" directory, count acknowledged
  writes that did not come back. Target: none older than 1 s. Against a directory replica
  and an S3-compatible server (moto's server mode).
* Faults: the replica unreachable at start, and cut mid-run (through a TCP proxy we can cut
  and restore): serve keeps serving, /readyz and /metrics say so, and it catches up.

Set HALOBUZZ_DRILL_REPORT=path.json to collect the drill numbers.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, cli, free_port

pytestmark = pytest.mark.slow
BUCKET = "halobuzz-drill"
RPO_TARGET = 1.0


# -- helpers ---------------------------------------------------------------------------------


class TcpProxy:
    """127.0.0.1:port -> 127.0.0.1:target, which a test can cut (refuse + drop) and restore."""

    def __init__(self, target: int) -> None:
        self.port, self.target = free_port(), target
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.alive = True

    def resume(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def cut(self) -> None:
        ls, self.listener = self.listener, None
        if ls:
            ls.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns.clear()

    def close(self) -> None:
        self.alive = False
        self.cut()

    def _accept(self, ls: socket.socket) -> None:
        while self.alive:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.2)
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).create_bucket(Bucket=BUCKET)
    yield port
    proc.terminate()
    proc.wait(10)
    log.close()


def s3_env(port: int, prefix: str) -> dict[str, str]:
    return {
        "HALOBUZZ_REPLICA_URL": f"s3://{BUCKET}/{prefix}",
        "HALOBUZZ_REPLICA_ENDPOINT": f"http://127.0.0.1:{port}",
        "HALOBUZZ_REPLICA_ACCESS_KEY_ID": "test",
        "HALOBUZZ_REPLICA_SECRET_ACCESS_KEY": "test",
        "HALOBUZZ_LOG_LEVEL": "info",
    }


def metric(c: httpx.Client, name: str) -> float:
    for line in c.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return -1.0


def wait_for(pred, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


def replication_check(c: httpx.Client) -> str:
    return c.get("/readyz").json()["checks"].get("replication", "")


def caught_up(c: httpx.Client) -> bool:
    local = metric(c, "halobuzz_replication_local_txid")
    return replication_check(c) == "ok" and local > 0 and metric(c, "halobuzz_replication_replica_txid") >= local


def register(c: httpx.Client, name: str) -> int:
    body = {
        "email": f"{name}@example.com",
        "password": "correct horse battery",
        "username": name,
        "country": "NP",
        "birthDate": "1998-02-03",
    }
    return c.post("/api/v1/auth/register", json=body).status_code


def usernames(db: Path) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT username FROM users")}
    finally:
        conn.close()


def litestream_children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return [k for k in kids if "litestream" in Path(f"/proc/{k}/cmdline").read_bytes().decode(errors="replace")]


def _report(entry: dict) -> None:
    print("\nDRILL " + json.dumps(entry))
    out = os.environ.get("HALOBUZZ_DRILL_REPORT")
    if out:
        path = Path(out)
        data = json.loads(path.read_text()) if path.exists() else []
        data.append(entry)
        path.write_text(json.dumps(data, indent=2))


# -- the loss drill ----------------------------------------------------------------------------


def loss_drill(tmp_path: Path, env: dict[str, str], source: str, label: str, seconds: float = 6.0) -> dict:
    srv = Server(tmp_path / "data", env=env).start()
    acked: list[tuple[str, float]] = []
    stop = threading.Event()
    with srv.client() as c:
        wait_for(lambda: caught_up(c), 30, "replication ready")

    def writer(tag: int) -> None:
        with srv.client() as c:
            while not stop.is_set():
                name = f"d{tag}_{uuid.uuid4().hex[:10]}"
                try:
                    if register(c, name) == 201:
                        acked.append((name, time.time()))
                except httpx.HTTPError:
                    return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    kids = litestream_children(srv.proc.pid)
    assert kids, "litestream child not found"
    killed_at = time.time()
    for pid in kids:  # the whole machine goes: Litestream and serve together
        os.kill(pid, signal.SIGKILL)
    srv.proc.send_signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(10)
    srv.stop()
    new = tmp_path / "new-machine"
    started = time.monotonic()
    out = cli(new, "restore", "--from", source, "--no-secrets", env=env)
    restore_s = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    present = usernames(new / "halobuzz.db")
    lost = [(n, killed_at - t) for n, t in acked if n not in present]
    ages = sorted(max(0.0, a) for _, a in lost)
    entry = {
        "replica": label,
        "acknowledged_writes": len(acked),
        "writes_per_s": round(len(acked) / seconds, 1),
        "lost": len(lost),
        "lost_older_than_1s": sum(1 for a in ages if a > RPO_TARGET),
        "oldest_lost_age_s": round(ages[-1], 3) if ages else 0.0,
        "restore_s": round(restore_s, 2),
    }
    _report(entry)
    return entry


def test_loss_drill_directory_replica(tmp_path):
    replica = tmp_path / "replica"
    entry = loss_drill(tmp_path, {"HALOBUZZ_REPLICA_URL": str(replica)}, str(replica), "directory")
    assert entry["acknowledged_writes"] > 50
    assert entry["lost_older_than_1s"] == 0, entry


def test_loss_drill_s3_replica(tmp_path, moto):
    env = s3_env(moto, "drill-" + uuid.uuid4().hex[:6])
    entry = loss_drill(tmp_path, env, env["HALOBUZZ_REPLICA_URL"], "s3 (moto)")
    assert entry["acknowledged_writes"] > 50
    assert entry["lost_older_than_1s"] == 0, entry


# -- faults ------------------------------------------------------------------------------------


def test_replica_unreachable_at_start_then_catches_up(tmp_path, moto):
    proxy = TcpProxy(moto)  # not listening yet: the replica is down
    env = s3_env(proxy.port, "late-" + uuid.uuid4().hex[:6])
    srv = Server(tmp_path / "data", env=env).start()
    try:
        with srv.client() as c:
            assert register(c, "early_bird") == 201  # serving regardless
            check = wait_for(
                lambda: (lambda v: v if v != "ok" else None)(replication_check(c)),
                20,
                "readiness to report the replica",
            )
            assert c.get("/readyz").status_code == 503 and c.get("/healthz").status_code == 200
            assert metric(c, "halobuzz_replication_healthy") == 0
            assert any(w in check for w in ("unreachable", "not reached", "not running")), check
            proxy.resume()
            wait_for(lambda: caught_up(c), 90, "replication to catch up")
            assert metric(c, "halobuzz_replication_healthy") == 1
    finally:
        srv.stop()
        proxy.close()
    out = cli(
        tmp_path / "new",
        "restore",
        "--from",
        env["HALOBUZZ_REPLICA_URL"],
        "--no-secrets",
        env={**env, "HALOBUZZ_REPLICA_ENDPOINT": f"http://127.0.0.1:{moto}"},
    )
    assert out.returncode == 0, out.stderr
    assert "early_bird" in usernames(tmp_path / "new" / "halobuzz.db")


def test_replica_cut_mid_run_keeps_serving_and_catches_up(tmp_path, moto):
    proxy = TcpProxy(moto)
    proxy.resume()
    env = s3_env(proxy.port, "cut-" + uuid.uuid4().hex[:6])
    srv = Server(tmp_path / "data", env=env).start()
    names = []
    try:
        with srv.client() as c:
            wait_for(lambda: caught_up(c), 30, "replication ready")
            proxy.cut()
            for i in range(30):  # still serving writes
                names.append(f"cut_{i}")
                assert register(c, names[-1]) == 201
                time.sleep(0.1)
            check = wait_for(
                lambda: (lambda v: v if v != "ok" else None)(replication_check(c)), 30, "readiness to notice the cut"
            )
            assert c.get("/readyz").status_code == 503, check
            wait_for(lambda: metric(c, "halobuzz_replication_lag_seconds") > 0, 20, "lag to grow")
            assert metric(c, "halobuzz_replication_healthy") == 0
            proxy.resume()
            wait_for(lambda: caught_up(c), 90, "replication to catch up after the cut")
            assert metric(c, "halobuzz_replication_lag_seconds") == 0
    finally:
        srv.stop()
        proxy.close()
    out = cli(
        tmp_path / "new",
        "restore",
        "--from",
        env["HALOBUZZ_REPLICA_URL"],
        "--no-secrets",
        env={**env, "HALOBUZZ_REPLICA_ENDPOINT": f"http://127.0.0.1:{moto}"},
    )
    assert out.returncode == 0, out.stderr
    assert set(names) <= usernames(tmp_path / "new" / "halobuzz.db")
