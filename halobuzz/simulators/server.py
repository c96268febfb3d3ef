"""The simulators over HTTP (one Sanic app on loopback) and the Stripe webhook sender.

Real protocol routes:
  eSewa   POST /api/epay/main/v2/form · GET /api/epay/transaction/status/
  Khalti  POST /api/v2/epayment/initiate/ · POST /api/v2/epayment/lookup/ · GET /khalti/pay/
  Stripe  POST /v1/checkout/sessions · GET /v1/checkout/sessions/<id> · GET /v1/payment_intents/<id>
          GET /v1/charges/<id> · POST /v1/refunds · GET /stripe/pay/<id>; webhooks to the configured URL,
          signed `t=..,v1=..` afresh on every attempt and retried on non-2xx (cfg.stripe_retry_delays)
Control (the customer and the gateway's back office), JSON in and out:
  POST /_sim/esewa/pay {transaction_uuid, success} · /_sim/esewa/status {transaction_uuid, status}
  POST /_sim/esewa/outage {on} · /_sim/khalti/pay {pidx, status} · /_sim/khalti/status {pidx, status}
  POST /_sim/stripe/pay {session, outcome} · /_sim/stripe/refund {session, amount}
  POST /_sim/stripe/dispute {session, status} · /_sim/stripe/resend {event, times, timestamp}
  POST /_sim/config {stripeWebhookUrl} · GET /_sim/stripe/deliveries · GET /_sim/stripe/events
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json as jsonlib
from typing import Any
from urllib.parse import parse_qsl

import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json, redirect
from sanic.response import html as html_response

from .core import EsewaSim, KhaltiSim, SimConfig, SimError, StripeSim, parse_form

_names = itertools.count()


def _body(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if "json" in ctype:
        try:
            data = jsonlib.loads(request.body or b"{}")
        except ValueError:
            raise SimError(400, {"error": "body is not JSON"}) from None
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl((request.body or b"").decode(), keep_blank_values=True))


def _page(title: str, body: str) -> HTTPResponse:
    return html_response(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<body style='font-family:sans-serif;max-width:36em;margin:2em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}<p><small>HaloBuzz gateway simulator</small></p>"
    )


def _buttons(action: str, hidden: dict[str, str], choices: list[tuple[str, str, str]]) -> str:
    out = []
    for name, value, label in choices:
        fields = "".join(
            f"<input type=hidden name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in hidden.items()
        )
        out.append(
            f"<form method=post action='{html.escape(action)}' style='display:inline'>{fields}"
            f"<button name='{html.escape(name)}' value='{html.escape(value)}'>{html.escape(label)}</button></form> "
        )
    return "".join(out)


def build_app(cfg: SimConfig) -> Sanic:
    app = Sanic(f"halobuzz_gateway_sim{next(_names) or ''}", configure_logging=False)
    app.config.update({"ACCESS_LOG": False, "MOTD": False, "FALLBACK_ERROR_FORMAT": "json"})
    es, kh, st = EsewaSim(cfg), KhaltiSim(cfg), StripeSim(cfg)
    app.ctx.sims = (es, kh, st)
    app.ctx.http = None

    @app.exception(SimError)
    async def sim_error(request, exc: SimError):
        return json(exc.body, status=exc.status)

    @app.before_server_start
    async def start(app):
        app.ctx.http = httpx.AsyncClient(timeout=10.0)

    @app.after_server_stop
    async def stop(app):
        await app.ctx.http.aclose()

    async def deliver(event: dict[str, Any], *, attempts: int | None = None, ts: int | None = None) -> None:
        delays = list(cfg.stripe_retry_delays)
        total = attempts or len(delays) + 1
        for attempt in range(total):
            if not cfg.stripe_webhook_url:
                st.deliveries.append(
                    {"event": event["id"], "attempt": attempt + 1, "status": None, "error": "no webhook URL configured"}
                )
                return
            payload, header = st.signed(event, ts)  # re-signed with a fresh t on every attempt
            try:
                resp = await app.ctx.http.post(
                    cfg.stripe_webhook_url,
                    content=payload.encode(),
                    headers={
                        "Stripe-Signature": header,
                        "Content-Type": "application/json; charset=utf-8",
                        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    },
                )
                code, error = resp.status_code, None
            except httpx.HTTPError as exc:
                code, error = None, exc.__class__.__name__
            st.deliveries.append(
                {"event": event["id"], "type": event["type"], "attempt": attempt + 1, "status": code, "error": error}
            )
            if code is not None and 200 <= code < 300:
                return
            if attempt < total - 1:
                await asyncio.sleep(delays[min(attempt, len(delays) - 1)] if delays else 0)

    def send(events: list[dict[str, Any]]) -> list[str]:
        for ev in events:
            app.add_task(deliver(ev))
        return [e["id"] for e in events]

    # -- eSewa --------------------------------------------------------------------------------
    @app.post("/api/epay/main/v2/form")
    async def esewa_form(request: Request):
        fields = _body(request)
        txn = es.form(fields)
        return _page(
            "eSewa (simulated)",
            f"<p>Pay NPR {html.escape(txn.total_amount)} to "
            f"{html.escape(txn.product_code)} as 9806800001</p>"
            + _buttons(
                "/_sim/esewa/pay", {"transaction_uuid": txn.uuid}, [("success", "1", "Pay"), ("success", "0", "Cancel")]
            ),
        )

    @app.get("/api/epay/transaction/status/")
    async def esewa_status(request: Request):
        a = {k: v[-1] for k, v in request.args.items()}
        return json(es.status(a.get("product_code", ""), a.get("total_amount", ""), a.get("transaction_uuid", "")))

    @app.post("/_sim/esewa/pay")
    async def esewa_pay(request: Request):
        b = _body(request)
        url = es.pay(str(b.get("transaction_uuid", "")), str(b.get("success", "1")) not in ("0", "false", "False"))
        if "json" in request.headers.get("content-type", ""):
            return json({"redirect": url})
        return redirect(url)

    @app.post("/_sim/esewa/status")
    async def esewa_set(request: Request):
        b = _body(request)
        txn = es.txns.get(str(b.get("transaction_uuid")))
        if txn is None:
            raise SimError(404, {"error": "unknown transaction"})
        txn.status = str(b["status"])
        return json({"transaction_uuid": txn.uuid, "status": txn.status})

    @app.post("/_sim/esewa/outage")
    async def esewa_outage(request: Request):
        es.outage = bool(_body(request).get("on"))
        return json({"outage": es.outage})

    # -- Khalti -------------------------------------------------------------------------------
    @app.post("/api/v2/epayment/initiate/")
    async def khalti_initiate(request: Request):
        kh.auth(request.headers.get("authorization"))
        try:
            body = jsonlib.loads(request.body or b"null")
        except ValueError:
            raise SimError(400, {"detail": "JSON parse error.", "error_key": "validation_error"}) from None
        return json(kh.initiate(body))

    @app.post("/api/v2/epayment/lookup/")
    async def khalti_lookup(request: Request):
        kh.auth(request.headers.get("authorization"))
        try:
            body = jsonlib.loads(request.body or b"null")
        except ValueError:
            body = None
        status, out = kh.lookup(body)
        return json(out, status=status)

    @app.get("/khalti/pay/")
    async def khalti_page(request: Request):
        pidx = request.args.get("pidx", "")
        p = kh.payments.get(pidx)
        if p is None:
            return _page("Khalti (simulated)", "<p>This payment link is not valid.</p>")
        return _page(
            "Khalti (simulated)",
            f"<p>Pay Rs. {p.amount / 100:.2f} for {html.escape(p.purchase_order_name)}"
            f" as 9800000001</p>"
            + _buttons(
                "/_sim/khalti/pay",
                {"pidx": pidx},
                [("status", "Completed", "Pay"), ("status", "User canceled", "Cancel")],
            ),
        )

    @app.post("/_sim/khalti/pay")
    async def khalti_pay(request: Request):
        b = _body(request)
        url = kh.pay(str(b.get("pidx", "")), str(b.get("status", "Completed")))
        if "json" in request.headers.get("content-type", ""):
            return json({"redirect": url})
        return redirect(url)

    @app.post("/_sim/khalti/status")
    async def khalti_set(request: Request):
        b = _body(request)
        kh.set_status(str(b.get("pidx", "")), str(b["status"]))
        return json({"pidx": b["pidx"], "status": b["status"]})

    # -- Stripe -------------------------------------------------------------------------------
    @app.post("/v1/checkout/sessions")
    async def stripe_create(request: Request):
        st.auth(request.headers.get("authorization"))
        params = parse_form(parse_qsl((request.body or b"").decode(), keep_blank_values=True))
        return json(st.create_session(params, request.headers.get("idempotency-key")))

    @app.get("/v1/checkout/sessions/<sid:str>")
    async def stripe_get_session(request: Request, sid: str):
        st.auth(request.headers.get("authorization"))
        return json(st.get("session", sid))

    @app.get("/v1/payment_intents/<pid:str>")
    async def stripe_get_pi(request: Request, pid: str):
        st.auth(request.headers.get("authorization"))
        return json(st.get("payment_intent", pid))

    @app.get("/v1/charges/<cid:str>")
    async def stripe_get_charge(request: Request, cid: str):
        st.auth(request.headers.get("authorization"))
        return json(st.get("charge", cid))

    @app.post("/v1/refunds")
    async def stripe_refund_api(request: Request):
        st.auth(request.headers.get("authorization"))
        p = parse_form(parse_qsl((request.body or b"").decode(), keep_blank_values=True))
        refund, events = st.refund(
            p.get("payment_intent"), p.get("charge"), int(p["amount"]) if p.get("amount") else None
        )
        send(events)
        return json(refund)

    @app.get("/stripe/pay/<sid:str>")
    async def stripe_page(request: Request, sid: str):
        s = st.sessions.get(sid)
        if s is None:
            return _page("Stripe Checkout (simulated)", "<p>This session does not exist.</p>")
        return _page(
            "Stripe Checkout (simulated)",
            f"<p>Pay {s['amount_total'] / 100:.2f} {html.escape(s['currency'].upper())} (card 4242...)</p>"
            + _buttons(
                "/_sim/stripe/pay",
                {"session": sid},
                [("outcome", "paid", "Pay"), ("outcome", "unpaid", "Pay by bank (delayed)")],
            ),
        )

    def _session(b: dict[str, Any]) -> dict[str, Any]:
        s = st.sessions.get(str(b.get("session", "")))
        if s is None:
            raise SimError(404, {"error": "unknown session"})
        return s

    @app.post("/_sim/stripe/pay")
    async def stripe_pay(request: Request):
        b = _body(request)
        s = _session(b)
        ids = send(st.pay(s["id"], str(b.get("outcome", "paid"))))
        if "json" in request.headers.get("content-type", ""):
            return json({"events": ids, "session": st.public(s)})
        return redirect(
            s["success_url"] if s["payment_status"] == "paid" or s["status"] == "complete" else s["cancel_url"] or "/"
        )

    @app.post("/_sim/stripe/refund")
    async def stripe_refund(request: Request):
        b = _body(request)
        s = _session(b)
        refund, events = st.refund(s["payment_intent"], None, b.get("amount"))
        return json({"refund": refund, "events": send(events)})

    @app.post("/_sim/stripe/dispute")
    async def stripe_dispute(request: Request):
        b = _body(request)
        s = _session(b)
        return json({"events": send(st.dispute(s["payment_intent"], str(b.get("status", "created")), b.get("amount")))})

    @app.post("/_sim/stripe/resend")
    async def stripe_resend(request: Request):
        """Deliver a past event again: `times` concurrent copies (duplicate delivery), optional `timestamp`."""
        b = _body(request)
        ev = next((e for e in st.events if e["id"] == b.get("event")), None)
        if ev is None:
            raise SimError(404, {"error": "unknown event"})
        n = int(b.get("times", 1))
        await asyncio.gather(*(deliver(ev, attempts=1, ts=b.get("timestamp")) for _ in range(n)))
        return json({"deliveries": st.deliveries[-n:]})

    @app.get("/_sim/stripe/deliveries")
    async def stripe_deliveries(request: Request):
        return json({"items": st.deliveries})

    @app.get("/_sim/stripe/events")
    async def stripe_events(request: Request):
        return json({"items": st.events})

    @app.post("/_sim/config")
    async def set_config(request: Request):
        b = _body(request)
        if "stripeWebhookUrl" in b:
            cfg.stripe_webhook_url = str(b["stripeWebhookUrl"])
        if "stripeRetryDelays" in b:
            cfg.stripe_retry_delays = tuple(float(x) for x in b["stripeRetryDelays"])
        return json({"stripeWebhookUrl": cfg.stripe_webhook_url, "stripeRetryDelays": list(cfg.stripe_retry_delays)})

    @app.get("/_sim/health")
    async def health(request: Request):
        return json({"ok": True})

    return app


def settings_env(cfg: SimConfig) -> dict[str, str]:
    """HALOBUZZ_* variables that point a HaloBuzz server at these simulators."""
    b = cfg.base_url.rstrip("/")
    return {
        "HALOBUZZ_ESEWA_PRODUCT_CODE": cfg.esewa_product_code,
        "HALOBUZZ_ESEWA_SECRET_KEY": cfg.esewa_secret,
        "HALOBUZZ_ESEWA_FORM_URL": b + "/api/epay/main/v2/form",
        "HALOBUZZ_ESEWA_STATUS_URL": b + "/api/epay/transaction/status/",
        "HALOBUZZ_KHALTI_API_BASE": b + "/api/v2/",
        "HALOBUZZ_KHALTI_SECRET_KEY": cfg.khalti_secret,
        "HALOBUZZ_STRIPE_API_BASE": b,
        "HALOBUZZ_STRIPE_SECRET_KEY": cfg.stripe_secret,
        "HALOBUZZ_STRIPE_WEBHOOK_SECRET": cfg.stripe_webhook_secret,
    }
