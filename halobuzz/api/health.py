"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from ..db import migrate
from . import contract, shapes

bp = Blueprint("health")


@bp.get("/healthz")
@contract.contract(responses={200: shapes.Obj}, auth=None)
async def healthz(request: Request):
    return json({"status": "ok"})


@bp.get("/readyz")
@contract.contract(responses={200: shapes.Obj, 503: shapes.Obj}, auth=None)
async def readyz(request: Request):
    sv = request.app.ctx.services
    checks: dict[str, str] = {}
    try:
        await sv.db.write(lambda conn: conn.execute("SELECT 1").fetchone())
        checks["database"] = "ok"
    except Exception as exc:  # the probe reports, it never raises
        checks["database"] = f"not writable: {exc}"
    try:
        waiting = migrate.pending(sv.db.inline.conn)
        checks["migrations"] = "ok" if not waiting else f"{len(waiting)} pending"
    except migrate.MigrationError as exc:
        checks["migrations"] = str(exc)
    for name, probe in sv.readiness.items():
        try:
            problem = probe()
        except Exception as exc:
            problem = str(exc)
        checks[name] = problem or "ok"
    ready = all(v == "ok" for v in checks.values())
    return json({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


@bp.get("/metrics")
@contract.contract(responses={200: contract.Raw("text/plain", {"type": "string"})}, auth=None)
async def metrics(request: Request):
    registry = request.app.ctx.services.metrics.registry
    return HTTPResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
