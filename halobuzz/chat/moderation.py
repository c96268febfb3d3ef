"""The chat moderation call point.

Chat asks its `moderator` (the Moderation service, set by the composition root) for a
verdict on every message:

* allow — deliver;
* warn  — deliver, and send `ai:warning` to the sender;
* block — do not deliver (the message is stored with status 'blocked' for review) and
  send `ai:warning` with blocked=true to the sender.

The moderation package plugs in with `ScorerModerator(text_scorer)` (any object with
`score(text) -> verdict` having .score/.reasons/.model_id) or any ChatModerator of its own.
Escalation (temporary bans after repeated blocks) belongs to moderation: a moderator may
implement `on_blocked(user_id, stream_id, verdict)`, which chat calls after a block;
`banned_until(user_id, now)`, which chat asks first (a banned user is refused "muted until ...",
never scored); and, with `records_subjects = True`, take `check(..., subject_id=message_id)`
so its stored decision points at the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import Unavailable

Action = Literal["allow", "warn", "block"]
WARN_AT = 0.6
BLOCK_AT = 0.9


@dataclass(frozen=True)
class ModerationVerdict:
    action: Action
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    model_id: str = "none"

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "score": round(float(self.score), 4),
            "reasons": list(self.reasons),
            "modelId": self.model_id,
        }


@runtime_checkable
class ChatModerator(Protocol):
    def check(self, user_id: str, text: str) -> ModerationVerdict: ...


class AllowAll:
    """The default: every message is allowed."""

    def check(self, user_id: str, text: str) -> ModerationVerdict:
        return ModerationVerdict("allow", 0.0, [], "allow-all")


class ScorerModerator:
    """Adapts a text scorer (score(text) -> .score/.reasons/.model_id) with warn/block thresholds."""

    def __init__(self, scorer: Any, warn_at: float = WARN_AT, block_at: float = BLOCK_AT, on_blocked=None) -> None:
        self.scorer = scorer
        self.warn_at = warn_at
        self.block_at = block_at
        self._on_blocked = on_blocked

    def check(self, user_id: str, text: str) -> ModerationVerdict:
        v = self.scorer.score(text)
        score = float(getattr(v, "score", 0.0))
        action: Action = "block" if score >= self.block_at else "warn" if score >= self.warn_at else "allow"
        return ModerationVerdict(
            action, score, list(getattr(v, "reasons", []) or []), str(getattr(v, "model_id", "unknown"))
        )

    def on_blocked(self, user_id: str, stream_id: str, verdict: ModerationVerdict) -> None:
        if self._on_blocked:
            self._on_blocked(user_id, stream_id, verdict)


def safe_check(moderator: Any, user_id: str, text: str, subject_id: str | None = None) -> ModerationVerdict:
    """A failing moderator must not take chat down: fail open, and say so in the verdict. A
    moderator that is not ready (raises errors.Unavailable) refuses the message instead.
    ``subject_id`` (the message's id) is passed to moderators that record decisions."""
    try:
        if subject_id is not None and getattr(moderator, "records_subjects", False):
            v = moderator.check(user_id, text, subject_id=subject_id)
        else:
            v = moderator.check(user_id, text)
        if v.action not in ("allow", "warn", "block"):
            raise ValueError(f"unknown moderation action {v.action!r}")
        return v
    except Unavailable:
        raise  # the moderator cannot judge yet (models loading): refuse the message, never wave it through
    except Exception as exc:  # noqa: BLE001 - reported in the verdict and logs
        import logging

        logging.getLogger("halobuzz.chat").exception("chat moderator failed; allowing")
        return ModerationVerdict("allow", 0.0, [f"moderator error: {type(exc).__name__}"], "error")
