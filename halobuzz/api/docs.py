"""/docs: the OpenAPI 3.1 contract (/docs/openapi.json) and the Swagger UI page, served by the
appliance itself (the realtime catalogue, /docs/asyncapi.json, is realtime/catalogue.py's).

sanic-ext still collects summaries, tags and security from the `openapi` decorators; its own
document moves to /docs/openapi-base.json (OAS_URI_TO_JSON) and contract.openapi_document lays
the msgspec-generated contract over it. The UI page is assets/docs/index.html (vendored
swagger-ui-dist, no CDN, no inline script), so /docs works offline under the strict CSP.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext.extensions.openapi.builders import SpecificationBuilder

from . import contract

bp = Blueprint("docs", url_prefix="/docs")
BASE_JSON = "/openapi-base.json"


def config(assets: Path) -> dict:
    """The sanic-ext settings /docs needs (create_app applies them before Extend)."""
    return {
        "OAS_URL_PREFIX": "/docs",
        "OAS_URI_TO_JSON": BASE_JSON,
        "OAS_UI_DEFAULT": "swagger",
        "OAS_UI_REDOC": False,
        "OAS_UI_SWAGGER_HTML_TITLE": "HaloBuzz API",
        "OAS_PATH_TO_SWAGGER_HTML": str(assets / "docs" / "index.html"),
    }


def _cached(request: Request, key: str, build) -> HTTPResponse:
    cache = request.app.ctx.__dict__.setdefault("docs_cache", {})
    body = cache.get(key)
    if body is None:
        body = cache[key] = msgspec.json.encode(build())
    return HTTPResponse(body, content_type="application/json")


@bp.get("/openapi.json")
async def openapi_json(request: Request):
    app = request.app
    return _cached(
        request, "openapi", lambda: contract.openapi_document(app, SpecificationBuilder().build(app).serialize())
    )
