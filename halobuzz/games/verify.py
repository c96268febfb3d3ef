"""Re-checking a finished round from its proof alone (what `halobuzz games verify` runs).

Recomputes the commitment, the client-seeds hash and every logged draw from the revealed
server seed, then checks that the recorded outcome is what those draws imply (the winning
tickets, the questions, the AI's win). Uses only the published algorithm.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from . import fairness, rounds


def check(conn: sqlite3.Connection, round_id: str, bank=None) -> list[str]:
    """Problems found (empty = the round verifies)."""
    p = rounds.proof(conn, round_id)
    if p["serverSeed"] is None:
        return ["the round has not ended: its server seed is not revealed yet"]
    problems = []
    if hashlib.sha256(p["serverSeed"].encode("ascii")).hexdigest() != p["seedHash"]:
        problems.append("sha256(serverSeed) does not match the published seedHash")
    if p["clientSeedsHash"] is not None and fairness.client_seeds_hash(p["clientSeeds"]) != p["clientSeedsHash"]:
        problems.append("the client seeds do not hash to clientSeedsHash")
    for d in p["draws"]:
        got = fairness.recompute(p["serverSeed"], p["clientSeedsHash"], round_id, d)
        if got != d["result"]:
            problems.append(f"draw nonce {d['nonce']} ({d.get('use')}): recomputed {got}, recorded {d['result']}")
    problems += _outcome_matches(conn, round_id, p, bank)
    return problems


def _outcome_matches(conn: sqlite3.Connection, round_id: str, p: dict[str, Any], bank) -> list[str]:
    r = rounds.get(conn, round_id)
    if r["status"] != "settled" or not r["outcome"]:
        return []
    import json

    out = json.loads(r["outcome"])
    draws = p["draws"]
    problems = []
    if r["game"] == "lottery" and out.get("winners"):
        picks = []
        for d in draws:
            if d["result"] not in picks:
                picks.append(d["result"])
        tickets = [e["entry_no"] for e in rounds.entries(conn, round_id)]
        if [w["ticket"] for w in out["winners"]] != [tickets[i] for i in picks[: len(out["winners"])]]:
            problems.append("the winning tickets are not the ones the draws pick")
    if r["game"] in ("quiz", "battle") and bank is not None:
        st = rounds.state(r)
        pool = bank.pool(st.get("category"))
        chosen = []
        for d in draws:
            if d.get("use") == "question" and d["result"] not in chosen:
                chosen.append(d["result"])
        if [pool[i].id for i in chosen] != out.get("questions"):
            problems.append("the questions asked are not the ones the draws pick")
    ai = [d for d in draws if d["kind"] == "happens"]
    if r["ai_won"] is not None and (not ai or bool(ai[-1]["result"]) != bool(r["ai_won"])):
        problems.append("the AI's result is not the one the draw at p gives")
    return problems
