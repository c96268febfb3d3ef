"""The HTTP contract in OpenAPI 3.1, generated from the same msgspec types that validate requests.

Every route says what it takes and gives with one decorator:

    @bp.post("/streams/<stream_id>/gifts")
    @openapi.summary("Send a gift")
    @contract(body=GiftBody, responses={200: GiftSent}, errors=(404, 409), idempotency=True)
    async def send_gift(request, stream_id): ...

* `body` / `query`: the msgspec Structs the handler hands to decode_json / decode_query (a test
  reads each handler's source and fails if they differ, so the document cannot drift);
* `responses`: status → a msgspec-describable type for the body (None: no body);
* `errors`: statuses answered with the error envelope. Added by themselves: 422 when there is a
  body or query, 401 (and 403 when `role`) for bearer routes, 404 when the path has parameters,
  429 under /api/;
* `idempotency`: the `Idempotency-Key` header (True: required, "optional": accepted);
* `auth`: "bearer" (default under /api/ when the route is `@openapi.secured`) or None.

`openapi_document(app)` takes sanic-ext's document (paths, summaries, tags, path parameters) and
lays the contract over it: request bodies, query and header parameters, responses, security,
components from msgspec.json.schema_components, the app's title and version, `openapi: 3.1.0`.
`routes_without_contract(app)` lists what has none (tests/unit/api/test_contract.py fails on it).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import msgspec

from .. import __version__

REF = "#/components/schemas/{name}"
# Routes that are not part of the JSON API contract (documents, static files, sockets).
NOT_API = ("/docs", "/assets", "/socket.io", "/favicon.ico", "/media/")


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    fields: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


class ErrorEnvelope(msgspec.Struct):
    """Every 4xx/5xx: {"error": {code, message, fields?}, "requestId"}."""

    error: ErrorBody
    requestId: str | None  # noqa: N815 (wire name)


@dataclass(frozen=True)
class Raw:
    """A body that is not a msgspec type: its content type and a JSON Schema (uploads, images, text)."""

    content_type: str
    schema: dict = field(default_factory=dict)


BINARY = {"type": "string", "format": "binary"}
IMAGE = Raw("image/*", BINARY)


def upload(field_name: str) -> tuple[Raw, Raw]:
    """An image upload: multipart/form-data with a file field, or the image bytes as the body."""
    return (
        Raw("multipart/form-data", {"type": "object", "properties": {field_name: BINARY}, "required": [field_name]}),
        IMAGE,
    )


@dataclass(frozen=True)
class Contract:
    body: Any = None
    query: Any = None
    responses: dict[int, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    idempotency: bool | Literal["optional"] = False
    auth: Literal["bearer"] | None | Literal["default"] = "default"
    role: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers: name → description
    body_required: bool = True


def contract(
    *,
    body: Any = None,
    query: Any = None,
    responses: dict[int, Any] | None = None,
    errors: tuple[int, ...] = (),
    idempotency: bool | Literal["optional"] = False,
    auth: Literal["bearer"] | None | Literal["default"] = "default",
    role: str | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    body_required: bool = True,
) -> Callable:
    """`body` may also be a Raw or a tuple of Raws (alternative content types)."""
    spec = Contract(
        body,
        query,
        dict(responses or {200: dict[str, Any]}),
        tuple(errors),
        idempotency,
        auth,
        role,
        content_type,
        dict(headers or {}),
        body_required,
    )

    def mark(handler: Callable) -> Callable:
        handler.__contract__ = spec
        return handler

    return mark


def of(handler: Callable) -> Contract | None:
    while handler is not None:
        found = getattr(handler, "__contract__", None)
        if found is not None:
            return found
        handler = getattr(handler, "__wrapped__", None) or getattr(handler, "func", None)
    return None


# -- which routes ----------------------------------------------------------------------------


def oas_path(sanic_path: str) -> str:
    path = "/" + sanic_path.lstrip("/")
    return re.sub(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>", r"{\1}", path)


def api_routes(app) -> list[tuple[str, str, Any]]:
    """(method, OpenAPI path, handler) for every HTTP route of the JSON API."""
    out = []
    for route in app.router.routes:
        path = oas_path(route.path)
        if path.startswith(NOT_API) or path == "/" or getattr(route.extra, "websocket", False):
            continue
        for method in sorted(route.methods):
            if method in ("HEAD", "OPTIONS"):
                continue
            out.append((method, path, route.handler))
    return sorted(out, key=lambda r: (r[1], r[0]))


def routes_without_contract(app) -> list[str]:
    return [f"{m} {p}" for m, p, h in api_routes(app) if of(h) is None]


_DECODES = re.compile(r"decode_(json|query)\(\s*[^,]+,\s*([A-Za-z_][A-Za-z0-9_.]*)")


def drift(app) -> list[str]:
    """Routes whose handler decodes a different Struct than its contract documents."""
    problems = []
    for method, path, handler in api_routes(app):
        spec = of(handler)
        if spec is None:
            continue
        fn = inspect.unwrap(handler)
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        for kind, name in _DECODES.findall(source):
            obj: Any = fn.__globals__
            for part in name.split("."):
                obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
            declared = spec.body if kind == "json" else spec.query
            if obj is not declared:
                problems.append(
                    f"{method} {path}: decodes {name} but documents {getattr(declared, '__name__', declared)}"
                )
    return problems


# -- the document ----------------------------------------------------------------------------


def _query_parameters(query: Any, schemas: dict[str, Any]) -> list[dict]:
    """One parameter per field of the query Struct, with the field's own schema."""
    (ref,), components = msgspec.json.schema_components([query], ref_template=REF)
    struct = components.pop(ref["$ref"].rsplit("/", 1)[-1])
    schemas.update(components)
    required = set(struct.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": schema}
        for name, schema in struct.get("properties", {}).items()
    ]


def operation_id(method: str, path: str) -> str:
    """Unique by construction (method + path): `post_streams_stream_id_gifts`."""
    route = re.sub(r"[^A-Za-z0-9]+", "_", path.replace("/api/v1/", "/")).strip("_")
    return f"{method.lower()}_{route}"


def _error_statuses(spec: Contract, path: str, secured: bool) -> list[int]:
    statuses = set(spec.errors)
    if spec.body is not None or spec.query is not None:
        statuses.add(422)
    if spec.body is not None:
        statuses.add(413)
    if secured:
        statuses.add(401)
        if spec.role:
            statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if path.startswith("/api/"):
        statuses.add(429)
    if spec.idempotency:
        statuses.add(409)
    return sorted(statuses)


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    303: "See other",
    307: "Redirect",
    400: "Bad request",
    401: "No or bad access token",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict (state, duplicate, or an Idempotency-Key reused with a different body)",
    413: "Body too large",
    422: "Invalid input (the error names the field)",
    429: "Rate limited (Retry-After)",
    503: "Not ready",
}


def _raw(typ: Any) -> bool:
    return isinstance(typ, Raw) or (isinstance(typ, tuple) and all(isinstance(t, Raw) for t in typ))


def _content(typ: Any, schema_of: dict[int, Any], content_type: str) -> dict:
    if isinstance(typ, Raw):
        return {typ.content_type: {"schema": typ.schema}}
    if isinstance(typ, tuple) and _raw(typ):
        return {t.content_type: {"schema": t.schema} for t in typ}
    return {content_type: {"schema": schema_of[id(typ)]}}


def openapi_document(app, base: dict) -> dict:
    """sanic-ext's serialized document with the contract laid over it."""
    doc = dict(base)
    doc["openapi"] = "3.1.0"
    doc["info"] = {
        **base.get("info", {}),
        "title": "HaloBuzz",
        "version": __version__,
        "description": "The HTTP API. Every error is {error: {code, message, fields?}, requestId}. "
        "Realtime (/ws and Socket.IO at /socket.io/): the event catalogue at "
        "/docs/asyncapi.json.",
    }
    paths: dict[str, dict] = {}
    for path, ops in (base.get("paths") or {}).items():
        if path.startswith(NOT_API) or path in ("/", "/ws"):
            continue  # documents, files and the sockets (those are in /docs/asyncapi.json)
        paths[path] = ops
    types: list[Any] = [ErrorEnvelope]
    pending: list[tuple[dict, Contract, str, str]] = []
    for method, path, handler in api_routes(app):
        spec = of(handler)
        op = paths.setdefault(path, {}).setdefault(method.lower(), {})
        op["operationId"] = operation_id(method, path)
        if spec is None:
            continue
        pending.append((op, spec, method, path))
        if spec.body is not None and not _raw(spec.body):
            types.append(spec.body)
        types.extend(t for t in spec.responses.values() if t is not None and not _raw(t))
    refs, components = msgspec.json.schema_components(types, ref_template=REF)
    schema_of = {id(t): s for t, s in zip(types, refs)}
    schemas = dict(components)
    error_ref = schema_of[id(ErrorEnvelope)]
    for op, spec, _method, path in pending:
        secured = spec.auth == "bearer" or (spec.auth == "default" and bool(op.get("security")))
        if secured:
            op["security"] = [{"bearer": []}]
        elif spec.auth is None:
            op.pop("security", None)
        given = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "path"}
        params = [
            {
                **given.get(name, {}),
                "name": name,
                "in": "path",
                "required": True,
                "schema": given.get(name, {}).get("schema") or {"type": "string"},
            }
            for name in re.findall(r"{([^}]+)}", path)
        ]
        if spec.query is not None:
            params.extend(_query_parameters(spec.query, schemas))
        if spec.idempotency:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": spec.idempotency is True,
                    "description": "Repeat with the same key and body → the first answer "
                    "(Idempotent-Replayed: true); another body → 409",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
                }
            )
        for name, text in spec.headers.items():
            params.append(
                {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
            )
        if params:
            op["parameters"] = params
        else:
            op.pop("parameters", None)
        if spec.body is not None:
            content = _content(spec.body, schema_of, spec.content_type)
            op["requestBody"] = {"required": spec.body_required, "content": content}
        else:
            op.pop("requestBody", None)
        responses: dict[str, Any] = {}
        for status, typ in sorted(spec.responses.items()):
            entry: dict[str, Any] = {"description": _REASONS.get(status, "OK")}
            if typ is not None:
                entry["content"] = _content(typ, schema_of, "application/json")
            responses[str(status)] = entry
        for status in _error_statuses(spec, path, secured):
            entry = {
                "description": _REASONS.get(status, "Error"),
                "content": {"application/json": {"schema": error_ref}},
            }
            if status == 429:
                entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "required": True}}
            responses.setdefault(str(status), entry)
        op["responses"] = responses
    doc["paths"] = {p: paths[p] for p in sorted(paths) if paths[p]}
    comps = dict(base.get("components") or {})
    comps["schemas"] = {**(comps.get("schemas") or {}), **schemas}
    comps["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    doc["components"] = comps
    return doc
