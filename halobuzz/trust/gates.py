"""Trust gates: features that need a minimum trust score, each set by a setting (0 = off).

A refusal is a 403 `trust_gate` that names the rule (the setting), the score needed and the
caller's score, so a client can say exactly why. A `verified` account passes every gate.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..errors import Forbidden
from .signals import evaluate

# gate -> (setting that holds its minimum score, what the user was trying to do)
RULES = {
    "dm_strangers": ("trust_min_dm_strangers", "message someone you have no conversation with"),
    "go_live": ("trust_min_go_live", "go live"),
    "payouts": ("trust_min_payouts", "request a payout"),
    "tournament_entry": ("trust_min_tournament_entry", "enter a tournament"),
}


class TrustGateRefused(Forbidden):
    code = "trust_gate"


@dataclass(frozen=True)
class GatePolicy:
    dm_strangers: int = 30
    go_live: int = 20
    payouts: int = 40
    tournament_entry: int = 30

    @classmethod
    def from_settings(cls, settings) -> "GatePolicy":
        return cls(**{gate: int(getattr(settings, rule, getattr(cls, gate))) for gate, (rule, _) in RULES.items()})


class Gates:
    def __init__(self, policy: GatePolicy, clock) -> None:
        self.policy, self.clock = policy, clock

    def check(self, conn: sqlite3.Connection, user_id: str, gate: str, now: datetime | None = None) -> None:
        need = getattr(self.policy, gate)
        if not need:
            return
        s = evaluate(conn, user_id, now or self.clock.now())
        if s.level == "verified" or s.score >= need:
            return
        rule, doing = RULES[gate]
        raise TrustGateRefused(
            f"your trust score {s.score} is below the {need} needed to {doing} (rule {rule})",
            extra={"rule": rule, "required": need, "score": s.score, "level": s.level},
        )

    def check_dm(self, conn: sqlite3.Connection, sender_id: str, recipient_id: str) -> None:
        """Only a first message to someone (no conversation yet) is gated: replies always pass."""
        a, b = sorted((sender_id, recipient_id))
        if conn.execute("SELECT 1 FROM dm_conversations WHERE user_a = ? AND user_b = ?", (a, b)).fetchone():
            return
        self.check(conn, sender_id, "dm_strangers")
