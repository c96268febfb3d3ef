"""Settling a 100k-ticket lottery vs raw SQLite inserting the same rows (target >= 0.5x).

    python -m bench.lottery_settle [--tickets 100000]

Setup (not timed): a migrated database, 1000 players, one lottery with N tickets bought
through the games code (stakes into escrow through the ledger).
Ours (timed): the draw as the server runs it — one write unit through the Writer
(synchronous=FULL): hash the N client seeds, draw the winners, one settlement ledger
transaction, every ticket's payout recorded, the same-IP check, the seed revealed.
Raw baseline (timed, same run): one `BEGIN; executemany(INSERT the same N ticket rows with
their payouts); COMMIT` into a fresh table of the same shape, synchronous=FULL.
Ratio = raw seconds / our seconds (1.0 = settling costs what writing the tickets once costs).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from halobuzz.db.connection import connect
from halobuzz.db.database import Database
from halobuzz.db.migrate import migrate
from halobuzz.games import engine, lottery, rounds
from halobuzz.games.compliance import Packs
from halobuzz.games.quizbank import Bank
from halobuzz.games.rules import Rules
from halobuzz.infra.clock import FrozenClock, iso
from halobuzz.resources import assets_dir
from halobuzz.wallet import ledger, wallet

from .harness import save, table


def setup(path: Path, tickets: int, players: int = 1000) -> tuple[str, Rules, FrozenClock]:
    clock = FrozenClock()
    # Bench players are in GB (games of chance allowed) with limits lifted for the volume.
    packs = Packs.load(assets_dir() / "compliance", {"GB": "max_stake=100000000,daily_loss_limit=100000000"})
    rules = Rules(packs=packs, bank=Bank.load(assets_dir() / "games" / "quiz"), lottery_max_tickets=tickets)
    c = connect(path)
    migrate(c)
    now = clock.now()
    c.execute("BEGIN")
    ids = [f"P{i:05d}" for i in range(players)]
    for uid in ids:
        c.execute(
            "INSERT INTO users(id, username, email, password_hash, country, birth_date, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (uid, uid, uid + "@b", "h", "GB", "1990-01-01", iso(now), iso(now)),
        )
        wallet.adjust(c, f"seed-{uid}", uid, 10**9, "paid", "bench", now)
    r = lottery.open_round(c, rules, price=10, draws_at=now.replace(year=now.year + 1), now=now, events=[])
    per = tickets // players
    for i, uid in enumerate(ids):
        engine.join(c, rules, r["id"], uid, now, events=[], count=per, client_seed=f"seed{i}", ip=f"10.0.{i % 250}.{i}")
    c.execute("COMMIT")
    c.close()
    clock.set(now.replace(year=now.year + 1))
    return r["id"], rules, clock


async def ours(path: Path, round_id: str, rules: Rules, clock: FrozenClock) -> float:
    db = Database(path, synchronous="FULL")
    await db.open()
    try:
        t0 = time.perf_counter()
        await db.write(lambda conn: engine.step(conn, rules, round_id, clock.now(), []))
        took = time.perf_counter() - t0
        status = db.inline.one("SELECT status FROM game_rounds WHERE id = ?", (round_id,))["status"]
        assert status == "settled", status
        return took
    finally:
        await db.close()


def raw(path: Path, rows: list[tuple]) -> float:
    c = connect(path, synchronous="FULL")
    c.execute(
        "CREATE TABLE tickets (round_id TEXT NOT NULL, entry_no INTEGER NOT NULL, user_id TEXT NOT NULL, "
        "client_seed TEXT NOT NULL, stake INTEGER NOT NULL, team TEXT, ip TEXT, created_at TEXT NOT NULL, "
        "payout INTEGER, PRIMARY KEY (round_id, entry_no))"
    )
    t0 = time.perf_counter()
    c.execute("BEGIN")
    c.executemany("INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?)", rows)
    c.execute("COMMIT")
    took = time.perf_counter() - t0
    c.close()
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "games.db"
        t0 = time.perf_counter()
        round_id, rules, clock = setup(db_path, args.tickets)
        setup_s = time.perf_counter() - t0
        ours_s = asyncio.run(ours(db_path, round_id, rules, clock))
        c = connect(db_path)
        rows = [
            tuple(r) for r in c.execute("SELECT * FROM game_entries WHERE round_id = ? ORDER BY entry_no", (round_id,))
        ]
        problems = ledger.verify_balances(c)
        proof_ok = rounds.proof(c, round_id)["verified"]
        c.close()
        raw_s = raw(Path(tmp) / "raw.db", rows)
    ratio = raw_s / ours_s
    table(
        f"Lottery settlement, {len(rows)} tickets (synchronous=FULL)",
        [
            ("setup: buy tickets via games code", f"{setup_s:.2f} s ({len(rows) / setup_s:,.0f} tickets/s, one tx)"),
            ("raw: insert the same ticket rows", f"{raw_s * 1000:.0f} ms"),
            ("ours: draw + settle (one write unit)", f"{ours_s * 1000:.0f} ms"),
            ("ledger verifies / proof verifies", f"{not problems} / {proof_ok}"),
        ],
        [f"ratio raw/ours = {ratio:.2f}x (target >= 0.5x)"],
    )
    save("lottery_settle", {"tickets": len(rows), "raw_s": raw_s, "ours_s": ours_s, "ratio": ratio, "setup_s": setup_s})


if __name__ == "__main__":
    main()
