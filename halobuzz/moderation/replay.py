"""Re-run stored decisions under new thresholds: what would change, without re-scoring.

Scores are stored with every decision, so a threshold change can be previewed
exactly (for the same model id).  Decisions from another model id are
reported as ``stale`` — they need re-scoring, not replaying.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .policy import Action, Thresholds


@dataclass(frozen=True, slots=True)
class Change:
    ref: object  # the caller's id for the decision (message id, row id …)
    score: float
    old: Action
    new: Action


@dataclass
class ReplayReport:
    thresholds: Thresholds
    total: int = 0
    changes: list[Change] = field(default_factory=list)
    transitions: Counter = field(default_factory=Counter)  # (old, new) -> count, changes only
    stale: int = 0  # decisions made by a different model id

    @property
    def unchanged(self) -> int:
        return self.total - self.stale - len(self.changes)

    def summary(self) -> str:
        parts = [f"{o.value}->{n.value}: {c}" for (o, n), c in sorted(self.transitions.items(), key=lambda kv: -kv[1])]
        return f"{self.total} decisions, {len(self.changes)} change, {self.unchanged} unchanged, {self.stale} stale" + (
            f" ({', '.join(parts)})" if parts else ""
        )


def replay(decisions: Iterable[Mapping], new: Thresholds, *, model_id: str | None = None) -> ReplayReport:
    """``decisions``: mappings with ``score`` and either ``action`` or old ``warn``/``block`` thresholds
    (plus optional ``model_id`` and ``id``).  If ``model_id`` is given, rows of other models count as stale.
    """
    report = ReplayReport(new)
    for row in decisions:
        report.total += 1
        if model_id is not None and row.get("model_id", model_id) != model_id:
            report.stale += 1
            continue
        score = float(row["score"])
        if row.get("action"):
            old = Action(row["action"])
        else:
            old = Thresholds(float(row["warn"]), float(row["block"])).action(score)
        now = new.action(score)
        if now is not old:
            report.changes.append(Change(row.get("id"), score, old, now))
            report.transitions[(old, now)] += 1
    return report
