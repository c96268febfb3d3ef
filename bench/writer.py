"""Writer transactions/s vs raw sqlite3 batched transactions (target >= 0.6x), and gifts
through the storage layer (Writer + the real send_gift unit) vs the same gift SQL run raw.

    python -m bench.writer [--seconds 3]

Raw baseline: one thread, `BEGIN IMMEDIATE; 100 units; COMMIT`, synchronous=FULL.
Ours: 256 concurrent asyncio callers each awaiting `db.write(unit)` (group commit,
a SAVEPOINT per unit, a future per unit, one thread hop per unit).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from halobuzz.db.connection import connect
from halobuzz.db.database import Database
from halobuzz.db.migrate import migrate
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy, send_gift
from halobuzz.infra.clock import Clock, iso
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet

from .harness import save, table

PAYLOAD = "x" * 120
POLICY = GiftPolicy(3000, 7, 5, wallet.SpendPolicy(0, 0))


def simple_unit(rnd: random.Random):
    a, b, amt = rnd.randrange(10_000), rnd.randrange(10_000), rnd.randrange(1, 100)

    def unit(c):
        c.execute("UPDATE wallet SET balance = balance - ? WHERE id = ?", (amt, a))
        c.execute("UPDATE wallet SET balance = balance + ? WHERE id = ?", (amt, b))
        c.execute("INSERT INTO ledger(src, dst, amount, ts) VALUES (?,?,?,?)", (a, b, amt, 0))
        c.execute("INSERT INTO event(room, kind, payload, ts) VALUES (?,?,?,?)", (b % 50, "gift", PAYLOAD, 0))

    return unit


def simple_schema(path: Path) -> None:
    c = connect(path)
    c.executescript("""CREATE TABLE wallet(id INTEGER PRIMARY KEY, balance INTEGER);
        CREATE TABLE ledger(id INTEGER PRIMARY KEY, src, dst, amount, ts);
        CREATE TABLE event(id INTEGER PRIMARY KEY, room, kind, payload, ts);""")
    c.execute("BEGIN")
    c.executemany("INSERT INTO wallet VALUES (?, 1000000)", [(i,) for i in range(10_000)])
    c.execute("COMMIT")
    c.close()


def gift_world(path: Path, viewers: int = 200) -> tuple[list[str], str]:
    c = connect(path)
    migrate(c)
    now = Clock().now()
    c.execute("BEGIN")
    catalog.seed(c, catalog.load_seed(assets_dir()), now)
    ids = [f"V{i:05d}" for i in range(viewers)]
    for uid in ["HOST", *ids]:
        c.execute(
            "INSERT INTO users(id, username, email, password_hash, country, birth_date, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (uid, uid, uid + "@b", "h", "NP", "1990-01-01", iso(now), iso(now)),
        )
    for uid in ids:
        wallet.adjust(c, f"seed-{uid}", uid, 10**9, "paid", "bench", now)
    c.execute(
        "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES ('S','HOST','b','NP','live',?)",
        (iso(now),),
    )
    c.execute("COMMIT")
    c.close()
    return ids, "S"


def gift_unit(ids: list[str], rnd: random.Random, n: int, clock: Clock):
    sender = rnd.choice(ids)

    def unit(c):
        return send_gift(
            c,
            sender_id=sender,
            stream_id="S",
            gift_id=rnd.choice(("rose", "heart", "momo")),
            quantity=1,
            key=f"b{n}",
            policy=POLICY,
            now=clock.now(),
        )

    return unit


def run_raw(path: Path, make, seconds: float, batch: int = 100) -> float:
    c = connect(path)
    rnd = random.Random(1)
    done, n = 0, 0
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        c.execute("BEGIN IMMEDIATE")
        for _ in range(batch):
            make(rnd, n)(c)
            n += 1
        c.execute("COMMIT")
        done += batch
    rate = done / (time.perf_counter() - start)
    c.close()
    return rate


async def run_ours(path: Path, make, seconds: float, concurrency: int = 256) -> tuple[float, float]:
    db = Database(path)
    await db.open()
    rnd = random.Random(2)
    counter = iter(range(10**9))
    done = 0
    end = time.perf_counter() + seconds

    async def caller():
        nonlocal done
        while time.perf_counter() < end:
            await db.write(make(rnd, next(counter) + 10**8))
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    rate = done / (time.perf_counter() - start)
    sizes = db.writer.max_batch
    await db.close()
    return rate, sizes


def interleaved(raw_fn, ours_fn, rounds: int) -> tuple[float, float]:
    """Alternate raw and ours so machine noise hits both alike; report medians."""
    raws, ours = [], []
    for _ in range(rounds):
        raws.append(raw_fn())
        ours.append(ours_fn())
    return statistics.median(raws), statistics.median(ours)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.5, help="per slice")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows, ratios, results = [], [], {}
    # 1. generic write units (the performance.md probe's 4-statement transfer)
    simple_schema(tmp / "raw.db")
    simple_schema(tmp / "ours.db")
    raw, ours = interleaved(
        lambda: run_raw(tmp / "raw.db", lambda rnd, n: simple_unit(rnd), args.seconds),
        lambda: asyncio.run(run_ours(tmp / "ours.db", lambda rnd, n: simple_unit(rnd), args.seconds))[0],
        args.rounds,
    )
    rows += [
        ("raw sqlite3, 4-stmt transfer, 100/tx", f"{raw:9.0f} tx/s"),
        ("Writer, 4-stmt transfer", f"{ours:9.0f} tx/s"),
    ]
    ratios.append(f"writer units/s {ours / raw:.2f}x raw (target >= 0.60x)")
    results["writer"] = {"raw": raw, "ours": ours, "ratio": ours / raw}
    # 2. real gifts: the full send_gift unit (rules, ledger with hash chain, holds, board, throne, combo)
    clock = Clock()
    ids, _ = gift_world(tmp / "graw.db")
    gift_world(tmp / "gours.db")
    offset = iter(range(0, 10**9, 10**6))
    raw_g, ours_g = interleaved(
        lambda: run_raw(
            tmp / "graw.db", lambda rnd, n, o=next(offset): gift_unit(ids, rnd, n + o, clock), args.seconds
        ),
        lambda: asyncio.run(
            run_ours(tmp / "gours.db", lambda rnd, n, o=next(offset): gift_unit(ids, rnd, n + o, clock), args.seconds)
        )[0],
        args.rounds,
    )
    rows += [
        ("raw sqlite3, send_gift SQL, 100/tx", f"{raw_g:9.0f} gifts/s"),
        ("Writer + send_gift (storage layer)", f"{ours_g:9.0f} gifts/s"),
    ]
    ratios.append(f"storage-layer gifts {ours_g / raw_g:.2f}x raw gift transactions (target >= 0.60x)")
    results["gifts"] = {"raw": raw_g, "ours": ours_g, "ratio": ours_g / raw_g}
    table(f"single writer vs raw sqlite3 (synchronous=FULL, median of {args.rounds} interleaved slices)", rows, ratios)
    save("writer", results)


if __name__ == "__main__":
    main()
