"""Builds the Moderation service: ONNX scorers loaded once, thresholds from settings.

A model file missing or corrupt at start stops `serve` with an error naming the file;
`halobuzz doctor` reports the same problem ("moderation models").
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from ..config import ConfigError, Settings
from ..resources import models_dir
from .age import AgeEstimator
from .image import NsfwScorer
from .media import MediaStore
from .models import ModelError, check_models
from .service import Moderation, ModerationConfig
from .text import TextScorer


def models_check(conn) -> list[str]:
    """Doctor check: every shipped model file is present and loads."""
    return check_models(models_dir())


def build_moderation(
    settings: Settings,
    db,
    clock,
    ids,
    *,
    end_stream: Callable[[str, str], Awaitable[Any]],
    forget_message: Callable[[str, str], None],
    metrics=None,
) -> Moderation:
    """Raises ConfigError on bad thresholds or a missing/corrupt model."""
    try:
        cfg = ModerationConfig.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(f"moderation settings: {exc}") from None
    directory = models_dir(settings)
    try:
        text = TextScorer(directory)
        nsfw = NsfwScorer(directory)
        age = AgeEstimator(directory, review_threshold=cfg.age_review)
    except ModelError as exc:
        raise ConfigError(f"moderation model problem: {exc}") from None
    return Moderation(
        db,
        clock,
        ids,
        config=cfg,
        text_scorer=text,
        nsfw_scorer=nsfw,
        age_estimator=age,
        media=MediaStore(settings.data_dir / "media"),
        end_stream=end_stream,
        forget_message=forget_message,
        metrics=metrics,
    )
