"""plugin(app, hb): wires moderation — ONNX scorers loaded once, the chat moderator, image
uploads, selfies, reports, the review queue and appeals — into the app.

A model file missing or corrupt at start stops `serve` with an error naming the file;
`halobuzz doctor` reports the same problem ("moderation models").
"""
from __future__ import annotations

from . import doctor
from .resources import models_dir


def _models_check(conn) -> list[str]:
    from .moderation.models import check_models
    return check_models(models_dir())


doctor.CHECKS.append(("moderation models", _models_check))


def build(hb):
    """The Moderation service for a context (scorers loaded here, once). Raises ConfigError."""
    from .config import ConfigError
    from .moderation.age import AgeEstimator
    from .moderation.image import NsfwScorer
    from .moderation.media import MediaStore
    from .moderation.models import ModelError
    from .moderation.service import Moderation, ModerationConfig
    from .moderation.text import TextScorer
    try:
        cfg = ModerationConfig.from_settings(hb.settings)
    except ValueError as exc:
        raise ConfigError(f"moderation settings: {exc}") from None
    directory = models_dir(hb.settings)
    try:
        text = TextScorer(directory)
        nsfw = NsfwScorer(directory)
        age = AgeEstimator(directory, review_threshold=cfg.age_review)
    except ModelError as exc:
        raise ConfigError(f"moderation model problem: {exc}") from None

    async def end_stream(stream_id: str, reason: str):
        streams = hb.extras.get("streams")
        if streams is None:
            from .errors import NotFound
            raise NotFound("streams are not available")
        return await streams.end(stream_id, reason)

    def forget_message(stream_id: str, message_id: str) -> None:
        chat = hb.extras.get("chat")
        buf = getattr(chat, "backlogs", {}).get(stream_id) if chat is not None else None
        if buf:
            for m in list(buf):
                if m.get("id") == message_id:
                    buf.remove(m)

    return Moderation(hb.db, hb.clock, hb.ids, hb.bus, config=cfg, text_scorer=text, nsfw_scorer=nsfw,
                      age_estimator=age, media=MediaStore(hb.settings.data_dir / "media"), end_stream=end_stream,
                      forget_message=forget_message)


def plugin(app, hb) -> None:
    from .api import moderation as api
    from .jobs.scheduler import Jobs
    svc = build(hb)
    hb.extras["moderation"] = svc
    hb.extras["chat_moderator"] = svc   # halobuzz.chat.moderation.ChatModerator: check() + on_blocked()
    app.blueprint(api.bp)

    async def prune_decisions():
        from datetime import timedelta
        from .moderation import decisions
        before = hb.clock.now() - timedelta(days=max(1, hb.settings.moderation_keep_days))
        return await hb.db.write(lambda conn: decisions.prune_allowed(conn, before)) or None

    hb.extras.setdefault("jobs", Jobs()).add("moderation_prune", prune_decisions, 3600)

    @app.listener("before_server_stop")
    async def close_moderation(app):
        svc.close()   # flushes buffered decisions while the writer is still open
