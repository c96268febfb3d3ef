"""What the game code needs to know besides the database: the operator's settings, the
compliance packs, the question bank, and the sources of ids and seeds (injected, so a test
can seed them; in production seeds come from `secrets`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..wallet.wallet import SpendPolicy
from . import fairness
from .compliance import Packs
from .quizbank import Bank

GAMES = ("quiz", "lottery", "challenge", "battle")
# Games whose result a fair draw decides (wholly or against the AI): compliance treats them
# as games of chance (age, country). The quiz is a skill contest between players.
CHANCE = {"quiz": False, "lottery": True, "challenge": True, "battle": True}


@dataclass
class Rules:
    packs: Packs
    bank: Bank
    spend: SpendPolicy = field(default_factory=SpendPolicy)
    ai_win_bps: dict[str, int] = field(default_factory=lambda: {"challenge": 4500, "battle": 4500})
    house_bps: dict[str, int] = field(default_factory=lambda: {g: 1000 for g in GAMES})
    min_reaction_ms: int = 250
    quiz_questions: int = 5
    quiz_seconds: int = 15
    quiz_gap_seconds: int = 3
    lobby_seconds: int = 60
    challenge_seconds: int = 30
    lottery_max_tickets: int = 1000  # per user per draw
    lottery_split_bps: tuple[int, ...] = (5000, 3000, 2000)
    new_id: Callable[[], str] = field(default=lambda: fairness.new_server_seed()[:26].upper())
    new_seed: Callable[[], str] = fairness.new_server_seed

    def p_of(self, game: str) -> int | None:
        return self.ai_win_bps.get(game)
