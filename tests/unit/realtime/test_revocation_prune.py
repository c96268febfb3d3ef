"""Pruning old revocations never lets a new one reuse an id a watcher's cursor has passed."""

from halobuzz.realtime import revocation
from tests.support.world import World


def test_prune_keeps_ids_monotonic(tmp_path):
    w = World.open(tmp_path / "r.db")
    for i in range(3):
        w.conn.execute("INSERT INTO revocations(at, user_id, reason) VALUES (?, ?, 'x')", (f"2026-01-0{i + 1}", "U"))
    assert revocation.prune(w.conn, "2099-01-01") == 2  # the newest row stays
    newest = w.conn.execute("SELECT MAX(id) FROM revocations").fetchone()[0]
    assert newest == 3
    w.conn.execute("INSERT INTO revocations(at, user_id, reason) VALUES ('2026-02-01', 'U', 'y')")
    assert w.conn.execute("SELECT MAX(id) FROM revocations").fetchone()[0] == 4
    w.conn.close()
