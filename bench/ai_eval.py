"""Offline evaluation of the AI features on synthetic sessions (no server, seeded, ~1 s).

    python -m bench.ai_eval [--rooms 200] [--seed 7]

1. Boredom: rooms with steady chat, likes and a few gifts for 5 minutes. In half of them chat,
   likes and gifts stop at minute 5 (viewers stay); the other half go on. Reported: mean
   engagement before/after, share of stopped rooms whose host was nudged, median seconds from
   the stop to the nudge, and nudges in rooms that never stopped (false alarms). Also a
   chat-only stop (likes and gifts go on): the score must fall even though no nudge is due.
2. Cohosts: for each host, 8-15 other live rooms with random languages/countries/categories/sizes.
   Reported: how often the top suggestion speaks the host's language when any candidate does,
   vs picking at random.
3. Gift suggestions: random viewers (ages, coins, daily caps already part-spent) in a real
   migrated SQLite file. Reported: suggestions checked, and violations (a suggestion to a minor,
   or price x maxQuantity above the coins or the remaining cap) — must be 0.
Exit status 1 if any check fails, so CI can run it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from halobuzz.accounts import users
from halobuzz.ai import cohosts, gifts
from halobuzz.ai.boredom import BoredomDetector
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.gifts import catalog
from halobuzz.infra.clock import iso
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet

TICK = 10.0


def boredom(rooms: int, rng: random.Random) -> dict:
    det = BoredomDetector(window=120, threshold=30, cooldown=600)
    before, after, delays, false_alarms, stopped_nudged = [], [], [], 0, 0
    chat_only_drop = []
    for r in range(rooms):
        sid, host = f"s{r}", f"h{r}"
        mode = ("stop", "steady", "chat_only")[r % 3]
        viewers = [f"{sid}-v{i}" for i in range(rng.randint(5, 60))]
        chat = likes = gift_count = 0
        nudged_at = None
        score_before = None
        for step in range(int(600 / TICK) + 1):
            t = step * TICK
            quiet = t > 300
            if not (quiet and mode == "stop"):
                if not (quiet and mode == "chat_only"):
                    chat += rng.randint(1, 3 + len(viewers) // 10)
                likes += rng.randint(0, 3 + len(viewers) // 5)
                gift_count += rng.random() < 0.25
            det.observe(sid, host, t, chat, likes, gift_count, viewers)
            nudge = det.evaluate(sid, t)
            if t == 300:
                score_before = det.score_of(sid)
            if nudge and nudged_at is None:
                nudged_at = t
        score_after = det.score_of(sid)
        if mode == "stop":
            before.append(score_before)
            after.append(score_after)
            if nudged_at is not None and nudged_at > 300:
                stopped_nudged += 1
                delays.append(nudged_at - 300)
        elif mode == "steady":
            false_alarms += nudged_at is not None
        else:
            chat_only_drop.append(score_before - score_after)
    n_stop = len(before)
    return {
        "stoppedRooms": n_stop,
        "engagementBefore": round(statistics.mean(before), 1),
        "engagementAfter": round(statistics.mean(after), 1),
        "nudgedShare": round(stopped_nudged / n_stop, 3),
        "medianSecondsToNudge": statistics.median(delays) if delays else None,
        "falseAlarms": false_alarms,
        "steadyRooms": rooms // 3 + (rooms % 3 > 1),
        "chatOnlyMeanDrop": round(statistics.mean(chat_only_drop), 1),
    }


LANGS, COUNTRIES, CATEGORIES = ("ne", "en", "hi"), ("NP", "IN", "US"), ("music", "talk", "gaming", None)


def room(rng: random.Random, sid: str) -> cohosts.Room:
    n = rng.choice((3, 10, 40, 200))
    return cohosts.Room(
        sid,
        f"h-{sid}",
        sid,
        "t",
        rng.choice(COUNTRIES),
        rng.choice(CATEGORIES),
        rng.choice(LANGS),
        frozenset(f"u{rng.randint(0, 2000)}" for _ in range(n)),
    )


def cohost(trials: int, rng: random.Random) -> dict:
    top_same = rand_same = eligible = 0
    for i in range(trials):
        me = room(rng, f"me{i}")
        others = [room(rng, f"o{i}-{j}") for j in range(rng.randint(8, 15))]
        if not any(o.language == me.language for o in others):
            continue
        eligible += 1
        top_same += cohosts.rank(me, others, limit=1)[0]["language"] == me.language
        rand_same += rng.choice(others).language == me.language
    return {
        "hosts": eligible,
        "topSameLanguage": round(top_same / eligible, 3),
        "randomSameLanguage": round(rand_same / eligible, 3),
    }


def recommendations(viewers: int, rng: random.Random) -> dict:
    now = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)
    spend = wallet.SpendPolicy(0, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "eval.db", synchronous="OFF")
        migrate(conn)
        catalog.seed(conn, catalog.load_seed(assets_dir()), now)
        users.insert_user(conn, "host", users.NewUser("h@x.io", "host", "pw", "NP", "1990-01-01"), "x", now, "host")
        conn.execute(
            "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES "
            "('s', 'host', 't', 'NP', 'live', ?)",
            (iso(now),),
        )
        checked = violations = minors = 0
        for i in range(viewers):
            uid = f"v{i}"
            birth = rng.choice(("1990-01-01", "2001-06-01", "2010-03-03", "2012-12-12"))
            users.insert_user(conn, uid, users.NewUser(f"{uid}@x.io", uid, "pw", "NP", birth), "x", now)
            coins = rng.choice((0, 5, 40, 300, 5000, 100_000))
            if coins:
                wallet.adjust(conn, f"g-{uid}", uid, coins, "paid", "eval", now)
            cap = rng.choice((None, 20, 100, 1000))
            if cap:
                wallet.set_daily_limit(conn, uid, cap)
            spent = rng.choice((0, 10, 50))
            wallet.record_spend(conn, uid, spent, now.date().isoformat())
            user = conn.execute("SELECT * FROM users WHERE id = ?", (uid,)).fetchone()
            limit = wallet.daily_limit(user, now.date(), spend)
            left = max(0, limit - spent) if limit else None
            out = gifts.suggest(conn, uid, "s", now, spend, limit=10)
            minor = gifts.is_minor(user, now)
            minors += minor
            for item in out["items"]:
                checked += 1
                total = item["price"] * item["maxQuantity"]
                if minor or item["price"] > coins or total > coins or (left is not None and total > left):
                    violations += 1
        conn.close()
    return {"viewers": viewers, "minors": minors, "suggestionsChecked": checked, "violations": violations}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    b, c, g = boredom(args.rooms, rng), cohost(args.rooms, rng), recommendations(args.rooms, rng)
    print("boredom    ", b)
    print("cohosts    ", c)
    print("gifts      ", g)
    ok = (
        b["engagementAfter"] < b["engagementBefore"]
        and b["nudgedShare"] >= 0.9
        and b["falseAlarms"] == 0
        and b["chatOnlyMeanDrop"] > 0
        and c["topSameLanguage"] > c["randomSameLanguage"]
        and c["topSameLanguage"] >= 0.95
        and g["violations"] == 0
        and g["suggestionsChecked"] > 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
