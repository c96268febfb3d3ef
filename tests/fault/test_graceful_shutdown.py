"""SIGTERM under load: the server stops accepting, finishes in-flight requests, makes its
last commit and exits 0; every acknowledged gift is on disk."""

import signal
import sqlite3
import threading
import time

import pytest

from tests.conftest import Server, cli
from tests.fault.test_gift_storm import live_room_with_viewers, storm

pytestmark = pytest.mark.slow


def test_sigterm_drains_and_keeps_every_acknowledged_gift(tmp_path):
    data = tmp_path / "data"
    srv = Server(data).start()
    viewers, sid = live_room_with_viewers(srv, "term", 4, 100_000)
    acked, attempted, lock, stop = {}, {}, threading.Lock(), threading.Event()
    workers = [
        threading.Thread(target=storm, args=(srv.url, viewers, sid, stop, acked, attempted, lock)) for _ in range(8)
    ]
    for w in workers:
        w.start()
    time.sleep(1.0)
    code = srv.stop(signal.SIGTERM)
    stop.set()
    for w in workers:
        w.join()
    assert code == 0, srv.log_path.read_text()[-2000:]
    assert acked
    db = sqlite3.connect(data / "halobuzz.db")
    keys = {r[0] for r in db.execute("SELECT key FROM ledger_tx WHERE kind = 'gift'")}
    db.close()
    missing = [k for k in acked if f"gift:{attempted[k][0]}:{k}" not in keys]
    assert not missing, f"{len(missing)} acknowledged gifts lost on graceful shutdown"
    assert cli(data, "ledger", "verify").returncode == 0
