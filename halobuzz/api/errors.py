"""Turning every failure into the contract's JSON error shape (never an HTML page)."""

from __future__ import annotations

import logging

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import JSONResponse, json

from ..errors import DomainError, RateLimited
from ..observability.logging import request_id_var

log = logging.getLogger("halobuzz.api")

_SANIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    return json({"error": body, "requestId": request_id_var.get()}, status=status, headers=headers)


def handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(exc.status, exc.body(), headers)
    if isinstance(exc, OverflowError):
        # A number too large for SQLite's 64-bit integers reached a query: the client's mistake.
        return error_response(422, {"code": "validation_error", "message": "a number is out of range"})
    if isinstance(exc, SanicException):
        status = getattr(exc, "status_code", 500) or 500
        if status >= 500:
            log.error("server error", exc_info=exc)
            return error_response(status, {"code": "internal", "message": "internal error"})
        message = str(exc) or _SANIC_CODES.get(status, "error")
        if status == 404:
            message = "no such route"
        # Sanic puts the headers the status needs on the exception: `Allow` on a 405 (RFC 9110
        # §15.5.6), `Content-Range` on a 416.
        headers = dict(getattr(exc, "headers", None) or {}) or None
        return error_response(status, {"code": _SANIC_CODES.get(status, "error"), "message": message}, headers)
    log.error("unhandled error", exc_info=exc)
    return error_response(500, {"code": "internal", "message": "internal error"})
