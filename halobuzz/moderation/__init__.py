"""Moderation: chat text, NSFW images and apparent age, from shipped ONNX models.

Pure domain code (no Sanic, no database). Typical use::

    scorer = TextScorer()                       # load once at start-up
    verdict = scorer.score("message")           # TextVerdict(score, reasons, model_id, ...)
    decision = decide(verdict.score, Thresholds(0.6, 0.9), model_id=verdict.model_id,
                      reasons=verdict.reasons)   # Decision: store it

The names below are imported on first use (PEP 562): `from ..moderation import restrictions`
(games, payments) must not pull numpy and onnxruntime into every process start.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Report": "evaluate",
    "evaluate": "evaluate",
    "evaluate_file": "evaluate",
    "read_jsonl": "evaluate",
    "ModelError": "models",
    "check_models": "models",
    "load_model": "models",
    "models_dir": "models",
    "normalize": "normalize",
    "Action": "policy",
    "Decision": "policy",
    "Thresholds": "policy",
    "decide": "policy",
    "ReplayReport": "replay",
    "replay": "replay",
    "TextScorer": "text",
    "TextVerdict": "text",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
