"""Builds the Moderation service: thresholds from settings, ONNX scorers loaded after start.

A model file missing or corrupt (size or sha256 against models/manifest.json) stops `serve`
with an error naming the file; `halobuzz doctor` reports the same problem ("moderation
models"). The sessions themselves load in a background thread (loading.py) that the
composition root starts once the server listens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

from ..config import ConfigError, Settings
from ..resources import models_dir
from .loading import ModelLoader, Scorers
from .media import MediaStore
from .models import check_models
from .service import Moderation, ModerationConfig


def models_check(conn) -> list[str]:
    """Doctor check: every shipped model file is present and intact."""
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
    """Raises ConfigError on bad thresholds or a missing/corrupt model file. Loads no model:
    call `moderation.models.start()` (or let the first use load them)."""
    try:
        cfg = ModerationConfig.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(f"moderation settings: {exc}") from None
    directory = models_dir(settings)
    problems = check_models(directory)
    if problems:
        raise ConfigError(f"moderation model problem: {problems[0]}")
    return Moderation(
        db,
        clock,
        ids,
        config=cfg,
        models=ModelLoader(lambda: load_scorers(directory, cfg)),
        media=MediaStore(settings.data_dir / "media"),
        end_stream=end_stream,
        forget_message=forget_message,
        metrics=metrics,
    )


def load_scorers(directory: Path, cfg: ModerationConfig) -> Scorers:
    """The three scorers (imports numpy and onnxruntime; runs in the loader's thread)."""
    from .age import AgeEstimator
    from .image import NsfwScorer
    from .text import TextScorer

    return Scorers(
        text=TextScorer(directory),
        nsfw=NsfwScorer(directory),
        age=AgeEstimator(directory, review_threshold=cfg.age_review),
    )
