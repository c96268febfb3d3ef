"""create_app(settings) -> Sanic: builds the parts, registers routes, owns start and stop."""
from __future__ import annotations

import itertools
import logging
from typing import Callable

import msgspec
from sanic import Sanic
from sanic_ext import Extend

from . import __version__, config
from .accounts.service import Accounts
from .accounts.tokens import AccessTokens
from .context import AppContext
from .db import Database
from .events import Bus
from .infra.clock import Clock
from .infra.crypto import FieldCipher
from .infra.ids import IdFactory, RandomSource, SystemRandom
from .infra.ratelimit import RateLimiter
from .observability.metrics import Metrics

log = logging.getLogger("halobuzz.app")
_names = itertools.count()
# Parts added by later packages: each gets the app and its context once, before serving.
Plugin = Callable[[Sanic, AppContext], None]


def build_context(settings: config.Settings, *, clock: Clock | None = None,
                  rand: RandomSource | None = None) -> AppContext:
    config.ensure_secrets(settings)
    clock = clock or Clock()
    ids = IdFactory(clock, rand or SystemRandom())
    metrics = Metrics()
    db = Database(settings.db_path, synchronous=settings.synchronous, max_batch=settings.writer_max_batch,
                  readers=settings.readers, metrics=metrics)
    access = AccessTokens(config.signing_key(settings), settings.shard_id, settings.access_token_ttl)
    keys, active = config.field_keys(settings)
    return AppContext(
        settings=settings, clock=clock, ids=ids, db=db, bus=Bus(metrics), metrics=metrics,
        limiter=RateLimiter(), cipher=FieldCipher(keys, active),
        accounts=Accounts(db, clock, ids, access, bcrypt_rounds=settings.bcrypt_rounds,
                          refresh_ttl=settings.refresh_token_ttl, min_age=settings.min_age,
                          reuse_leeway=settings.refresh_reuse_leeway))


def create_app(settings: config.Settings, *, clock: Clock | None = None,
               rand: RandomSource | None = None, plugins: tuple[Plugin, ...] = ()) -> Sanic:
    from . import api, features
    hb = build_context(settings, clock=clock, rand=rand)
    # msgspec's encoder is several times faster than the stdlib's for response bodies.
    app = Sanic(f"halobuzz{next(_names) or ''}", configure_logging=False, dumps=msgspec.json.encode)
    app.config.update({
        "REQUEST_MAX_SIZE": max(settings.max_body_bytes, 16 * 1024 * 1024),
        "REQUEST_TIMEOUT": settings.request_timeout,
        "GRACEFUL_SHUTDOWN_TIMEOUT": settings.graceful_shutdown_timeout,
        "FALLBACK_ERROR_FORMAT": "json",
        "ACCESS_LOG": False,
        "MOTD": False,
        "CORS": False,
        "OAS_URL_PREFIX": "/docs",
        "OAS_UI_DEFAULT": "swagger",
        "OAS_UI_REDOC": False,
        "HEALTH": False,
    })
    app.ctx.hb = hb
    app.config.OAS_TITLE = "HaloBuzz"
    app.config.OAS_VERSION = __version__
    # Only what we use: OpenAPI. The injection extension alone adds a signal dispatch
    # to every request, which we do not need.
    from sanic_ext.extensions.openapi.extension import OpenAPIExtension  # noqa: PLC0415
    Extend(app, extensions=[OpenAPIExtension], built_in_extensions=False)
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer", bearer_format="JWT")
    api.register(app)
    for plugin in (*features.PLUGINS, *plugins):
        plugin(app, hb)

    @app.listener("before_server_start", priority=1000)
    async def open_db(app: Sanic):
        await hb.db.open()
        log.info("database open", extra={"path": str(settings.db_path)})

    @app.listener("after_server_stop", priority=-1000)
    async def close_db(app: Sanic):
        # Runs last: the writer drains its queue and makes the final commit.
        await hb.db.close()
        log.info("database closed")

    return app
