"""Cost of the festival ledger scan (bonuses + leaderboards + hourly totals) against the cost of
the gifts it reads, both measured in the same run on one SQLite file (synchronous=OFF, one
transaction each, so only the SQL work is compared).

    python -m bench.festival_scan [--gifts 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from halobuzz.accounts import audit, users
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.festivals import bonus, store
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy, send_gift
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gifts", type=int, default=5000)
    n = ap.parse_args(argv).gifts
    now = datetime(2026, 12, 25, 1, 0, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as d:
        conn = connect(Path(d) / "b.db", synchronous="OFF")
        migrate(conn)
        catalog.seed(conn, catalog.load_seed(assets_dir()), now)
        users.insert_user(conn, "h", users.NewUser("h@x.io", "h", "pw", "NP", "1990-01-01"), "x", now)
        conn.execute(
            "INSERT INTO streams(id, host_id, title, country, status, created_at) "
            "VALUES ('s', 'h', 't', 'NP', 'live', 'x')"
        )
        for i in range(50):
            users.insert_user(conn, f"u{i}", users.NewUser(f"u{i}@x.io", f"u{i}", "pw", "NP", "1990-01-01"), "x", now)
            wallet.adjust(conn, f"g{i}", f"u{i}", 10**7, "paid", "t", now)
        store.create(conn, store.from_template("christmas", 2026), audit.Actor("bench", "cli"), now)
        policy = GiftPolicy(3000, 7, 5, wallet.SpendPolicy(0, 2000))
        conn.execute("BEGIN")
        t = time.perf_counter()
        for i in range(n):
            send_gift(
                conn,
                sender_id=f"u{i % 50}",
                stream_id="s",
                gift_id="momo",
                quantity=4,
                key=f"k{i}",
                policy=policy,
                now=now,
            )
        gifts = time.perf_counter() - t
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        t, paid = time.perf_counter(), 0
        while True:
            step = bonus.settle(conn, now)
            paid += len(step.bonuses)
            if step.scanned < bonus.BATCH:
                break
        scan = time.perf_counter() - t
        conn.execute("COMMIT")
        conn.close()
    print(f"gifts (raw send_gift SQL)  {n} in {gifts * 1000:.0f} ms  ({gifts / n * 1e6:.0f} us each)")
    print(
        f"festival scan              {n} gifts, {paid} bonuses in {scan * 1000:.0f} ms  ({scan / n * 1e6:.0f} us each)"
    )
    print(f"ratio scan/gift            {scan / gifts:.2f}")


if __name__ == "__main__":
    main()
