"""HTTP routes. Each area is a blueprint registered from here, in one place."""
from __future__ import annotations

from sanic import Sanic

from . import accounts, admin, health, middleware
from .errors import handle


def register(app: Sanic) -> None:
    middleware.install(app)
    app.error_handler.add(Exception, handle)
    for bp in (health.bp, accounts.bp, admin.bp):
        app.blueprint(bp)
