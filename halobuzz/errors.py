"""Every error type a domain call can raise, in one place.

Domain code raises a DomainError (or a subclass); the API layer turns it into
the contract's JSON shape: {"error": {"code", "message", "fields"}, "requestId"}.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: dict[str, str] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            err["fields"] = self.fields
        err.update(self.extra)
        return err


class Invalid(DomainError):
    status = 422
    code = "validation_error"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """429; `retry_after` seconds also goes out as the Retry-After header."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None, *, in_body: bool = False) -> None:
        super().__init__(message, code=code, extra={"retryAfter": retry_after} if in_body else None)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMedia(DomainError):
    status = 415
    code = "unsupported_media_type"


class ChatRefused(Conflict):
    """The room does not take this message now (not live, chat off, muted)."""

    code = "chat_refused"


class CallbackRejected(DomainError):
    """A gateway callback that fails its signature, amount or state checks."""

    status = 400
    code = "callback_rejected"


class GatewayUnavailable(DomainError):
    """The gateway could not be asked (network, 5xx, error body): transient, try later."""

    status = 502
    code = "gateway_unavailable"


class GatewayRefused(DomainError):
    """The gateway answered but refused the request (bad key, validation)."""

    status = 502
    code = "gateway_refused"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
