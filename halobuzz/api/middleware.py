"""Per-request plumbing: request id, client IP, rate limits, CORS, security headers, metrics, auth."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import time

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from ..accounts.service import Principal
from ..errors import Forbidden, RateLimited, Unauthorized, UnsupportedMedia
from ..infra import netaddr
from ..infra.ratelimit import Rule, retry_after_seconds
from ..observability.logging import request_id_var

_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count(1)
_access = logging.getLogger("halobuzz.access")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_UNLIMITED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/assets", "/docs", "/favicon")
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self' https: http://127.0.0.1:* http://localhost:*; object-src 'none'"
)
# With media_provider = agora the console's Agora Web SDK reaches Agora's gateways over HTTPS
# (websockets are already allowed), runs a helper worker from a blob: URL and styles the
# video elements it creates with inline styles.
_CSP_AGORA = (
    _CSP.replace(
        "connect-src 'self' ws: wss:", "connect-src 'self' ws: wss: https://*.agora.io https://*.sd-rtn.com"
    ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    + "; worker-src 'self' blob:"
)
_CSP_API = "default-src 'none'; frame-ancestors 'none'"
# /docs is the vendored Swagger UI (assets/docs): no CDN, no inline script, the console's policy.
_CSP_DOCS = _CSP


def new_request_id() -> str:
    """Unique per process run (random prefix + counter): cheaper than uuid4 on every request."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):x}"


def client_ip(request: Request, trusted: tuple[str, ...]) -> str:
    peer = request.conn_info.client_ip if request.conn_info else "unknown"
    return netaddr.client_ip(peer, request.headers.get("x-forwarded-for", ""), trusted)


def route_group(path: str) -> str | None:
    if path.startswith(_UNLIMITED_PREFIXES) or not (path.startswith("/api/") or path == "/ws"):
        return None
    if path == "/ws":
        return "ws"
    if path == "/api/v1/auth/refresh":
        # Access tokens last 15 minutes, so every active user refreshes: behind one carrier
        # NAT that is many users per IP. Refresh gets its own, larger per-IP bucket.
        return "refresh"
    if path.endswith("/webhook"):
        # Gateways deliver from a few IPs in bursts and every delivery is signature-checked:
        # they get their own, larger bucket instead of sharing a user's.
        return "webhooks"
    parts = path.split("/")
    # /api/v1/<group>/...
    return parts[3] if len(parts) > 3 and parts[3] else "api"


def install(app: Sanic) -> None:
    @app.on_request(priority=100)
    async def begin(request: Request):
        rid = request.headers.get("x-request-id", "")
        if not _GOOD_ID.match(rid):
            rid = new_request_id()
        request.ctx.request_id = rid
        request.ctx.started = time.perf_counter()
        request.ctx.principal = None
        request_id_var.set(rid)
        sv = request.app.ctx.services
        s = sv.settings
        request.ctx.client_ip = client_ip(request, s.trusted_proxies)
        if request.method == "OPTIONS" and request.headers.get("origin"):
            return HTTPResponse(status=204)
        group = route_group(request.path)
        if request.route is None and not request.path.startswith(_UNLIMITED_PREFIXES):
            # Unknown paths share ONE group (a fresh path segment is not a fresh bucket).
            group = "unknown"
        if group is None:
            return None
        # A caller whose token this process has already verified is limited per account, so
        # people behind one carrier-grade NAT (common on mobile networks) don't share a bucket;
        # everyone else (anonymous, login, unknown or forged tokens) is limited per IP.
        user_id = None
        header = request.headers.get("authorization", "")
        if group not in ("auth", "refresh") and header[:7].lower() == "bearer ":
            user_id = sv.accounts.access.cached_subject(header[7:].strip(), time.time())
        now = time.monotonic()
        if user_id:
            _limit(sv, group, "u:" + user_id, s.rate_limits.get("user:" + group) or s.rate_limit_user, now)
            return None
        key = request.ctx.client_ip
        # A group's own rule can only tighten the anonymous budget (auth: 20 / 15 min) ...
        own = (
            s.rate_limits.get(group)
            or _DEFAULT_GROUP_LIMITS.get(group)
            or (s.rate_limit_auth if group == "auth" else None)
        )
        if own:
            _limit(sv, group, key, own, now)
        # ... and every anonymous request from an IP, whatever the route (unknown ones too), also
        # counts against ONE overall budget: rate_limit_default (the seed's 100 / 15 min). Signed
        # gateway webhooks and token refresh keep their own larger buckets (see _OWN_BUDGET).
        if group not in _OWN_BUDGET:
            _limit(sv, "anonymous", key, s.rate_limit_default, now)
        return None

    @app.on_request(priority=90)
    async def json_bodies_only(request: Request):
        # A body is parsed as JSON only when it says it is JSON (415 otherwise): a form post or
        # text/plain from another origin must not be taken for an API call. Routes that take
        # image bytes are marked ctx_raw_body; gateway webhooks verify their raw bodies.
        if (
            request.method in _BODY_METHODS
            and request.route is not None
            and request.path.startswith("/api/")
            and not getattr(request.route.ctx, "raw_body", False)
            and not request.path.endswith("/webhook")
            and request.body
            and len(request.body) <= request.app.ctx.services.settings.max_body_bytes
        ):
            ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype != "application/json" and not (ctype.startswith("application/") and ctype.endswith("+json")):
                raise UnsupportedMedia(
                    f"send the body as JSON with Content-Type: application/json (got {ctype or 'none'})",
                    field="Content-Type",
                )
        return None

    @app.on_response(priority=100)
    async def finish(request: Request, response: HTTPResponse):
        sv = request.app.ctx.services
        rid = getattr(request.ctx, "request_id", None) or new_request_id()
        h = response.headers
        h["X-Request-Id"] = rid
        h["X-Content-Type-Options"] = "nosniff"
        if response.content_type and response.content_type.startswith("application/json"):
            # JSON is never rendered as a document: a short policy keeps the hot path lean.
            h.setdefault("Content-Security-Policy", _CSP_API)
        else:
            h["Referrer-Policy"] = "no-referrer"
            h["X-Frame-Options"] = "DENY"
            h["Cross-Origin-Opener-Policy"] = "same-origin"
            h.setdefault(
                "Content-Security-Policy",
                _CSP_DOCS
                if request.path.startswith("/docs")
                else _CSP_AGORA
                if sv.settings.media_provider == "agora"
                else _CSP,
            )
        if sv.settings.tls:
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        origin = request.headers.get("origin")
        if origin and origin in sv.settings.cors_origins:
            h["Access-Control-Allow-Origin"] = origin
            h["Vary"] = "Origin"
            h["Access-Control-Allow-Credentials"] = "true"
            if request.method == "OPTIONS":
                h["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
                h["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
                h["Access-Control-Max-Age"] = "600"
        route = "/" + request.route.path if request.route else "unmatched"
        started = getattr(request.ctx, "started", None)
        if started is not None:
            elapsed = time.perf_counter() - started
            sv.metrics.observe_request(request.method, route, response.status, elapsed)
            if sv.settings.access_log:
                _access.info(
                    "request",
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "route": route,
                        "status": response.status,
                        "ms": round(elapsed * 1000, 2),
                        "ip": getattr(request.ctx, "client_ip", None),
                    },
                )


_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


_rules: dict[str, Rule] = {}
_DEFAULT_GROUP_LIMITS = {"webhooks": "20000/15m", "refresh": "600/15m"}
# Groups outside the overall anonymous budget: webhooks are signature-checked deliveries from a
# few gateway IPs; refresh is shared by every user behind a carrier NAT and needs a live token.
_OWN_BUDGET = frozenset(_DEFAULT_GROUP_LIMITS)


def _limit(sv, group: str, key: str, text: str, now: float) -> None:
    rule = _rules.get(text) or _rules.setdefault(text, Rule.parse(text))
    wait = sv.limiter.hit(group, key, rule, now)
    if wait:
        sv.metrics.rate_limited.labels(group).inc()
        raise RateLimited(f"too many requests; try again in {retry_after_seconds(wait)} s", retry_after_seconds(wait))


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an access token is required (Authorization: Bearer ...)", code="missing_token")
    return token.strip()


def principal(request: Request, role: str | None = None) -> Principal:
    """The authenticated caller; raises 401/403. Cached on the request."""
    who = getattr(request.ctx, "principal", None)
    if who is None:
        who = request.app.ctx.services.accounts.authenticate(bearer(request))
        request.ctx.principal = who
        request.app.ctx.services.activity.seen(who.user_id)  # business metrics: active users
    if role:
        who.require(role)
    return who


def admin(request: Request) -> Principal:
    """Admin routes need the admin role AND an email on the configured allow-list (the seed's guard).
    A refused attempt is written to the audit log (action `admin.refused`)."""
    try:
        who = principal(request, "admin")
        allowed = {e.lower() for e in request.app.ctx.services.settings.admin_emails}
        if who.email.lower() not in allowed:
            raise Forbidden("this account is not on the admin allow-list", code="admin_not_allowed")
    except (Forbidden, Unauthorized) as exc:
        _record_refusal(request, exc)
        raise
    return who


# (who, method, route) -> monotonic time of the last recorded refusal: one row per minute each,
# so someone hammering an admin route cannot flood the audit log.
_refusals: dict[tuple[str, str, str], float] = {}
_REFUSAL_EVERY = 60.0


def _record_refusal(request: Request, exc: Exception) -> None:
    from ..accounts import audit
    from ..infra.clock import iso

    sv = request.app.ctx.services
    who = getattr(request.ctx, "principal", None)
    name = who.email if who is not None else f"anonymous@{getattr(request.ctx, 'client_ip', '?')}"
    route = "/" + request.route.path if request.route else request.path
    key = (name, request.method, route)
    now = time.monotonic()
    if now - _refusals.get(key, -_REFUSAL_EVERY) < _REFUSAL_EVERY:
        return
    if len(_refusals) > 10_000:
        _refusals.clear()
    _refusals[key] = now
    actor = audit.Actor(
        name=name,
        source="api",
        user_id=who.user_id if who else None,
        request_id=getattr(request.ctx, "request_id", None),
    )
    detail = {
        "method": request.method,
        "path": request.path[:200],
        "code": getattr(exc, "code", None),
        "ip": getattr(request.ctx, "client_ip", None),
    }
    at = iso(sv.clock.now())

    async def write():
        try:
            await sv.db.write(
                lambda conn: audit.record(
                    conn, actor, "admin.refused", target_type="route", target_id=route[:100], after=detail, at=at
                )
            )
        except Exception:
            logging.getLogger("halobuzz.audit").exception("could not record a refused admin attempt")

    asyncio.get_running_loop().create_task(write())
