"""Moderation: chat text, NSFW images and apparent age, from shipped ONNX models.

Pure domain code (no Sanic, no database). Typical use::

    scorer = TextScorer()                       # load once at start-up
    verdict = scorer.score("message")           # TextVerdict(score, reasons, model_id, ...)
    decision = decide(verdict.score, Thresholds(0.6, 0.9), model_id=verdict.model_id,
                      reasons=verdict.reasons)   # Decision: store it
"""

from .evaluate import Report, evaluate, evaluate_file, read_jsonl
from .models import ModelError, check_models, load_model, models_dir
from .normalize import normalize
from .policy import Action, Decision, Thresholds, decide
from .replay import ReplayReport, replay
from .text import TextScorer, TextVerdict

__all__ = [
    "Action",
    "Decision",
    "ModelError",
    "Report",
    "ReplayReport",
    "TextScorer",
    "TextVerdict",
    "Thresholds",
    "check_models",
    "decide",
    "evaluate",
    "evaluate_file",
    "load_model",
    "models_dir",
    "normalize",
    "read_jsonl",
    "replay",
]
