"""Score → action, with everything needed to explain, appeal and re-run a decision."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum


class Action(str, Enum):
    ALLOW = "allow"
    WARN = "warn"  # text: `ai:warning`; image: human review
    BLOCK = "block"  # text: hide + temporary ban; image: auto-blur + review


@dataclass(frozen=True, slots=True)
class Thresholds:
    warn: float = 0.6
    block: float = 0.9

    def __post_init__(self) -> None:
        if not (0.0 <= self.warn <= self.block <= 1.0):
            raise ValueError(
                f"thresholds must satisfy 0 <= warn <= block <= 1, got warn={self.warn} block={self.block}"
            )

    def action(self, score: float) -> Action:
        if score >= self.block:
            return Action.BLOCK
        if score >= self.warn:
            return Action.WARN
        return Action.ALLOW


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided and why: store all of it (model id, score, thresholds, action, reasons)."""

    model_id: str
    score: float
    action: Action
    threshold: float | None  # the threshold that was crossed (None for allow)
    thresholds: Thresholds
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["action"] = self.action.value
        d["reasons"] = list(self.reasons)
        return d


def decide(score: float, thresholds: Thresholds | None = None, *, model_id: str = "", reasons=()) -> Decision:
    t = thresholds or Thresholds()
    action = t.action(score)
    crossed = {Action.BLOCK: t.block, Action.WARN: t.warn, Action.ALLOW: None}[action]
    return Decision(model_id, float(score), action, crossed, t, tuple(reasons))
