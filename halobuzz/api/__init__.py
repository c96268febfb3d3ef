"""HTTP routes. Every blueprint is registered here, in one place (the /ws endpoint is
realtime's and registered beside this call in app.py)."""

from __future__ import annotations

from sanic import Sanic

from ..resources import assets_dir
from . import (
    accounts,
    admin,
    battles,
    console,
    dms,
    docs,
    festivals,
    games,
    health,
    insights,
    media,
    middleware,
    moderation,
    money,
    payments,
    shards,
    streams,
    trust,
)
from .errors import handle

BLUEPRINTS = (
    health.bp,
    accounts.bp,
    admin.bp,
    money.bp,
    money.admin_bp,
    streams.bp,
    dms.bp,
    battles.bp,
    console.bp,  # web console at / and static files at /assets/
    payments.bp,  # coin purchases: eSewa, Khalti, Stripe
    payments.admin_bp,
    moderation.bp,  # reports, review queue, appeals, image checks
    festivals.bp,  # active festivals, leaderboards
    festivals.admin_bp,  # festival editor
    trust.bp,  # /me/trust, admin verification
    insights.bp,  # cohosts, gift suggestions, host engagement
    games.bp,  # games lobby, rounds, proofs, compliance, tournaments
    games.admin_bp,
    media.bp,  # built-in video path: HLS live/replay files, GET …/replay
    docs.bp,  # /docs/openapi.json: the contract (api/contract.py)
    shards.bp,  # shard map, cross-shard gifts, global trending (404 not_sharded when unsharded)
)


def register(app: Sanic) -> None:
    middleware.install(app)
    shards.install(app)  # 307 / 4xx for another shard's resources (no-op when unsharded)
    app.error_handler.add(Exception, handle)
    app.ctx.static_files = console.StaticFiles(assets_dir(app.ctx.services.settings))
    for bp in BLUEPRINTS:
        app.blueprint(bp)
