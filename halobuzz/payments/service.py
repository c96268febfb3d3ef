"""Payments: the async calls routes, jobs and the CLI use.

Network calls to gateways happen outside any write unit; each inbound delivery then
runs ONE write unit that logs the raw payload (encrypted) with its verdict and applies
the verified answer (settle.apply). Events and metrics leave after COMMIT.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from ..accounts import audit
from ..db import emit
from ..errors import (
    CallbackRejected,
    Conflict,
    DomainError,
    GatewayUnavailable,
    Invalid,
    NotFound,
)
from ..infra.clock import Clock, iso, parse_iso
from ..infra.crypto import FieldCipher
from ..infra.ids import IdFactory
from ..infra.paging import page
from ..og.tiers import Tier
from ..reply import Reply
from ..wallet import idempotency, wallet
from . import checkout, settle, store
from .gateways import esewa as esewa_gw
from .gateways import stripe as stripe_gw
from .gateways.base import (
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    UNKNOWN,
    OrderRef,
    Status,
    Urls,
)
from .packs import Pack

log = logging.getLogger("halobuzz.payments")


IN_PROGRESS = 102  # idempotency row of an order whose gateway start is still running


class Payments:
    def __init__(
        self,
        *,
        write: Callable[[Callable], Awaitable[Any]],
        fetchall: Callable[..., Awaitable[list]],
        cipher: FieldCipher,
        clock: Clock,
        ids: IdFactory,
        settings,
        tiers: dict[int, Tier],
        packs: dict[str, Pack],
        gateways: dict[str, Any],
        metrics=None,
    ) -> None:
        self.write, self.fetchall = write, fetchall
        self.cipher, self.clock, self.ids, self.settings = cipher, clock, ids, settings
        self.packs, self.gateways, self.metrics = packs, gateways, metrics
        self.ctx = settle.Ctx(
            tiers, wallet.SpendPolicy(settings.spend_limit_adult, settings.spend_limit_minor), ids.new
        )
        base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        api = base + "/api/v1/payments"
        self.urls = Urls(
            esewa_success=api + "/esewa/return",
            esewa_failure=api + "/esewa/return?failed=1",
            khalti_return=api + "/khalti/return",
            website=base,
            stripe_success=base + "/?payment=success",
            stripe_cancel=base + "/?payment=cancelled",
        )

    # -- reads ------------------------------------------------------------------------
    def pack_list(self, gateway: str | None = None) -> list[dict[str, Any]]:
        out = []
        for p in self.packs.values():
            gws = tuple(g for g in p.gateways if g in self.gateways and (gateway is None or g == gateway))
            if gws:
                out.append({**p.to_json(), "gateways": list(gws)})
        return out

    async def _one(self, sql: str, params: tuple) -> Any:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # -- listings (routes translate these; they hold no SQL) ----------------------------
    async def orders_of(self, user_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        rows = await self.fetchall(*store.orders_query(user=user_id, before=cursor, limit=limit))
        return page([store.order_json(r) for r in rows], limit)

    async def order_of(self, user_id: str, order_id: str) -> dict[str, Any]:
        """One of the user's own orders; someone else's is as absent as a missing one."""
        row = await self._one("SELECT * FROM payment_orders WHERE id = ?", (order_id,))
        if row is None or row["user_id"] != user_id:
            raise NotFound("no such order", field="orderId")
        return store.order_json(row)

    async def orders(
        self,
        *,
        status: str | None,
        gateway: str | None,
        user: str | None,
        review: bool | None,
        cursor: str | None,
        limit: int,
    ) -> dict[str, Any]:
        rows = await self.fetchall(
            *store.orders_query(status=status, gateway=gateway, user=user, review=review, before=cursor, limit=limit)
        )
        return page([store.order_json(r, admin=True) for r in rows], limit)

    async def events(
        self, *, gateway: str | None, verdict: str | None, order: str | None, cursor: int | None, limit: int
    ) -> dict[str, Any]:
        rows = await self.fetchall(
            *store.events_query(gateway=gateway, verdict=verdict, order=order, before=cursor, limit=limit)
        )
        return page([store.event_json(r) for r in rows], limit)

    async def event_with_payload(self, event_id: int, actor: audit.Actor) -> dict[str, Any]:
        """One gateway event with its decrypted raw payload; every viewing is audited."""
        row = await self._one("SELECT * FROM payment_events WHERE id = ?", (event_id,))
        if row is None:
            raise NotFound("no such event", field="eventId")
        at = iso(self.clock.now())
        await self.write(
            lambda conn: audit.record(
                conn, actor, "payments.view_payload", target_type="payment_event", target_id=str(event_id), at=at
            )
        )
        return store.event_json(row, self.cipher)

    async def reconcile_by(self, actor: audit.Actor, order_id: str | None = None) -> dict[str, int]:
        """An admin's reconciliation run, audited with its counts."""
        counts = await self.reconcile(order_id)
        at = iso(self.clock.now())
        await self.write(
            lambda conn: audit.record(
                conn, actor, "payments.reconcile", target_type="payment_order", target_id=order_id, after=counts, at=at
            )
        )
        return counts

    # -- orders -----------------------------------------------------------------------
    async def create_order(self, user_id: str, gateway: str, pack_id: str, key: str | None = None) -> Reply:
        """With an Idempotency-Key, a retry of the same request returns the first answer (the same
        order), the same key with another body is 409, and a retry while the first call is still
        talking to the gateway is 409 `idempotency_in_progress`. If starting at the gateway fails,
        the key is released (the order is marked failed), so a retry makes a fresh order."""
        gw = self.gateways.get(gateway)
        if gw is None:
            raise Invalid(f"{gateway} is not enabled on this server", field="gateway")
        pack = self.packs.get(pack_id)
        if pack is None:
            raise Invalid("no such pack", field="packId")
        now = self.clock.now()
        order_id = self.ids.new()
        req_hash = None
        if key is not None:
            key = idempotency.check_key(key)
            req_hash = idempotency.body_hash("payments:order", {"gateway": gateway, "packId": pack_id})

        def insert(conn):
            if key is not None:
                row = conn.execute(
                    "SELECT request_hash, status, response FROM idempotency WHERE user_id = ? AND key = ?",
                    (user_id, key),
                ).fetchone()
                if row is not None:
                    if row["request_hash"] != req_hash:
                        raise Conflict(
                            "this Idempotency-Key was used with a different request",
                            code="idempotency_mismatch",
                            field="Idempotency-Key",
                        )
                    if row["status"] == IN_PROGRESS:
                        raise Conflict(
                            "the first request with this Idempotency-Key is still running; retry shortly",
                            code="idempotency_in_progress",
                            field="Idempotency-Key",
                        )
                    return Reply(row["status"], json.loads(row["response"]), True)
                conn.execute(
                    "INSERT INTO idempotency(user_id, key, request_hash, status, response, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (user_id, key, req_hash, IN_PROGRESS, json.dumps({"orderId": order_id}), iso(now)),
                )
            checkout.insert_order(
                conn,
                order_id=order_id,
                user_id=user_id,
                gateway=gateway,
                pack=pack,
                now=now,
                ttl_seconds=self.settings.payment_order_ttl,
            )
            return None

        replay = await self.write(insert)
        if replay is not None:
            return replay
        ref = OrderRef(order_id, pack.amount_minor, pack.currency, pack.name)
        # eSewa's failure redirect carries nothing of its own: name the order in it, so a cancel
        # closes that order (unsigned, so it can only close an unpaid order; a verified payment
        # arriving later still credits it).
        urls = replace(self.urls, esewa_failure=f"{self.urls.esewa_failure}&{urlencode({'order': order_id})}")
        try:
            started = await gw.start(ref, urls)
        except DomainError as exc:
            note = f"gateway start failed: {exc.message}"

            def failed(conn):
                store.update(conn, order_id, self.clock.now(), status="failed", note=note)
                if key is not None:
                    conn.execute("DELETE FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key))

            await self.write(failed)
            raise

        def unit(conn):
            store.update(conn, order_id, self.clock.now(), gateway_ref=started.gateway_ref)
            body = {"order": store.order_json(store.get(conn, order_id)), "redirect": started.redirect}
            if key is not None:
                conn.execute(
                    "UPDATE idempotency SET status = 201, response = ? WHERE user_id = ? AND key = ?",
                    (json.dumps(body, separators=(",", ":")), user_id, key),
                )
            return body

        return Reply(201, await self.write(unit))

    # -- shared plumbing --------------------------------------------------------------
    def _fail_metric(self, gateway: str, reason: str) -> None:
        if self.metrics:
            self.metrics.payments_verification_failures.labels(gateway, reason).inc()

    async def _reject(
        self,
        gateway: str,
        source: str,
        raw: dict,
        reason: str,
        message: str,
        *,
        status: int = 400,
        code: str = "callback_rejected",
        order_id: str | None = None,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        now = self.clock.now()
        uid = self.ids.new()
        await self.write(
            lambda conn: store.log_event(
                conn,
                self.cipher,
                uid=uid,
                gateway=gateway,
                source=source,
                raw=raw,
                verdict="rejected",
                reason=f"{reason}: {message}",
                now=now,
                order_id=order_id,
                event_id=event_id,
                event_type=event_type,
            )
        )
        self._fail_metric(gateway, reason)
        log.warning("payment callback rejected", extra={"gateway": gateway, "reason": reason, "order": order_id})
        raise CallbackRejected(message, code=code, status=status, extra={"reason": reason})

    async def _settle(
        self,
        gateway: str,
        source: str,
        raw: dict,
        order_id: str,
        work: Callable[[Any], settle.Outcome],
        *,
        event_id: str | None = None,
        event_type: str | None = None,
        log_always: bool = True,
    ) -> settle.Outcome:
        now = self.clock.now()
        uid = self.ids.new()

        def unit(conn):
            out = work(conn)
            if log_always or out.verdict not in ("pending", "duplicate"):
                store.log_event(
                    conn,
                    self.cipher,
                    uid=uid,
                    gateway=gateway,
                    source=source,
                    raw=raw,
                    verdict=out.verdict,
                    reason=out.reason,
                    now=now,
                    order_id=order_id,
                    event_id=event_id,
                    event_type=event_type,
                )
            for event in out.events:
                emit(conn, event)
            return out

        # Metrics count what committed, even when the gateway's connection went away meanwhile.
        return await self.write(unit, after=self._count)

    def _count(self, out: settle.Outcome) -> None:
        if self.metrics:
            if out.revenue:
                gw, cur, amount = out.revenue
                self.metrics.payments_revenue.labels(gw, cur).inc(amount)
            if out.clawed:
                self.metrics.payments_clawback_coins.labels(out.clawed[0]).inc(out.clawed[1])
            if out.verdict == "mismatch":
                self._fail_metric(out.order["gateway"] if out.order else "unknown", "amount_mismatch")

    def _ref(self, order) -> OrderRef:
        return OrderRef(order["id"], order["amount_minor"], order["currency"], order["pack_id"], order["gateway_ref"])

    # -- eSewa: signed redirect + status API --------------------------------------------
    async def _esewa_cancelled(self, raw: dict, order_id: str | None) -> Reply:
        """The customer cancelled at eSewa (`?failed=1`): close the unpaid order as failed with
        reason `cancelled`. Unsigned, so it never touches an order already paid or closed."""
        order = (
            await self._one("SELECT * FROM payment_orders WHERE id = ? AND gateway = 'esewa'", (order_id,))
            if order_id
            else None
        )
        if order is None or order["status"] not in store.OPEN:
            why = "no order named" if order is None else f"order is {order['status']}"
            logged = await self._log_only("esewa", raw, "ignored", f"cancel redirect: {why}", None, "cancelled")
            return Reply(
                200, {**logged, "reason": "cancelled", "order": store.order_json(order) if order is not None else None}
            )
        oid = order["id"]
        out = await self._settle(
            "esewa",
            "return",
            raw,
            oid,
            lambda conn: settle.apply(conn, oid, Status(FAILED, "cancelled"), self.clock.now(), self.ctx),
            event_type="cancelled",
        )
        return Reply(200, {**out.body(), "reason": "cancelled"})

    async def esewa_return(self, args: dict[str, list[str]]) -> Reply:
        raw = {"query": {k: v[-1] for k, v in args.items()}}
        q = raw["query"]
        if "data" not in q and q.get("failed"):
            return await self._esewa_cancelled(raw, q.get("order") or q.get("transaction_uuid"))
        if "data" not in q:
            # Failure/pending redirect: unsigned, informational; reconciliation decides.
            order_id = q.get("order") or q.get("transaction_uuid")
            if not order_id:
                await self._reject(
                    "esewa",
                    "return",
                    raw,
                    "malformed",
                    "the data parameter is missing",
                    status=422,
                    code="validation_error",
                )
            order = await self._one("SELECT * FROM payment_orders WHERE id = ? AND gateway = 'esewa'", (order_id,))
            if order is None:
                await self._reject(
                    "esewa", "return", raw, "unknown_order", "no such order", status=404, code="not_found"
                )
            out = await self._settle(
                "esewa",
                "return",
                raw,
                order_id,
                lambda conn: settle.apply(
                    conn, order_id, Status(PENDING, "failure redirect"), self.clock.now(), self.ctx
                ),
            )
            return Reply(200, out.body())
        try:
            obj = esewa_gw.decode_data(q["data"])
            esewa_gw.verify_response(obj, self.gateways["esewa"].secret)
        except esewa_gw.CallbackError as exc:
            await self._reject(
                "esewa",
                "return",
                raw,
                exc.reason,
                str(exc),
                code="invalid_signature" if exc.reason == "bad_signature" else "malformed_callback",
            )
        raw["decoded"] = obj
        gw = self.gateways["esewa"]
        order_id = obj["transaction_uuid"]
        event_id = f"esewa:{order_id}:{obj['status']}"
        if obj["product_code"] != gw.product_code:
            await self._reject(
                "esewa", "return", raw, "wrong_merchant", "the payment is for another merchant", event_id=event_id
            )
        order = await self._one("SELECT * FROM payment_orders WHERE id = ? AND gateway = 'esewa'", (order_id,))
        if order is None:
            await self._reject(
                "esewa",
                "return",
                raw,
                "unknown_order",
                "no such order",
                status=404,
                code="not_found",
                event_id=event_id,
            )
        if esewa_gw.amount_minor(obj["total_amount"]) != order["amount_minor"]:
            await self._reject(
                "esewa",
                "return",
                raw,
                "amount_mismatch",
                "the amount does not match the order",
                status=409,
                code="amount_mismatch",
                order_id=order_id,
                event_id=event_id,
            )
        if order["status"] in store.CREDITED:
            # A replayed (or repeated) success payload: nothing to do, say so.
            out = await self._settle(
                "esewa",
                "return",
                raw,
                order_id,
                lambda conn: settle.Outcome(
                    "duplicate", "already credited", store.order_json(store.get(conn, order_id))
                ),
                event_id=event_id,
            )
            return Reply(200, out.body())
        if parse_iso(order["created_at"]) + timedelta(seconds=self.settings.payment_order_ttl) < self.clock.now():
            await self._reject(
                "esewa",
                "return",
                raw,
                "stale",
                "the order is older than its payment window; reconciliation will check it",
                status=409,
                code="order_expired",
                order_id=order_id,
                event_id=event_id,
            )
        try:
            st = await gw.status(self._ref(order))
        except GatewayUnavailable as exc:
            st = Status(PENDING, f"status check unavailable: {exc.message}")
        if obj["status"] == "COMPLETE" and st.state != COMPLETED:
            self._fail_metric("esewa", "status_disagrees")
        out = await self._settle(
            "esewa",
            "return",
            raw,
            order_id,
            lambda conn: settle.apply(conn, order_id, st, self.clock.now(), self.ctx),
            event_id=event_id,
        )
        if obj["status"] == "COMPLETE" and out.verdict in ("pending", "failed", "expired", "ignored"):
            return Reply(
                409 if out.verdict != "pending" else 202,
                {
                    **out.body(),
                    "error": {"code": "not_completed", "message": f"eSewa's status check says {st.gateway_status}"},
                },
            )
        return Reply(200, out.body())

    # -- Khalti: unsigned callback, lookup decides --------------------------------------------
    async def khalti_return(self, args: dict[str, list[str]]) -> Reply:
        raw = {"query": {k: v[-1] for k, v in args.items()}}
        q = raw["query"]
        pidx = q.get("pidx", "")
        if not pidx or len(pidx) > 100:
            await self._reject(
                "khalti", "return", raw, "malformed", "pidx is required", status=422, code="validation_error"
            )
        event_id = f"khalti:{pidx}:{q.get('status', '')}"
        order = await self._one(store.BY_REF_SQL, ("khalti", pidx))
        if order is None or (q.get("purchase_order_id") and q["purchase_order_id"] != order["id"]):
            await self._reject(
                "khalti",
                "return",
                raw,
                "unknown_order",
                "no such order",
                status=404,
                code="not_found",
                event_id=event_id,
            )
        order_id = order["id"]
        if order["status"] in store.CREDITED:
            out = await self._settle(
                "khalti",
                "return",
                raw,
                order_id,
                lambda conn: settle.Outcome(
                    "duplicate", "already credited", store.order_json(store.get(conn, order_id))
                ),
                event_id=event_id,
            )
            return Reply(200, out.body())
        try:
            st = await self.gateways["khalti"].status(self._ref(order))
        except GatewayUnavailable as exc:
            st = Status(PENDING, f"lookup unavailable: {exc.message}")
        claims = q.get("status", "")
        out = await self._settle(
            "khalti",
            "return",
            raw,
            order_id,
            lambda conn: settle.apply(conn, order_id, st, self.clock.now(), self.ctx),
            event_id=event_id,
        )
        if claims.lower() == "completed" and st.state != COMPLETED:
            self._fail_metric("khalti", "callback_disagrees")
            return Reply(
                409 if st.state != PENDING else 202,
                {
                    **out.body(),
                    "error": {
                        "code": "not_completed",
                        "message": f"the callback says Completed but Khalti's lookup says {st.gateway_status}",
                    },
                },
            )
        return Reply(200, out.body())

    # -- Stripe: signed webhooks ------------------------------------------------------------
    async def stripe_webhook(self, body: bytes, header: str | None) -> Reply:
        raw = {"body": body.decode("utf-8", "replace"), "signature": header}
        gw = self.gateways.get("stripe")
        if gw is None:
            raise NotFound("Stripe is not enabled on this server")
        try:
            event = stripe_gw.verify_webhook(body, header, gw.webhook_secret, self.settings.stripe_webhook_tolerance)
        except stripe_gw.BadWebhook as exc:
            await self._reject(
                "stripe",
                "webhook",
                raw,
                exc.reason,
                str(exc),
                code="invalid_signature" if exc.reason == "bad_signature" else "malformed_callback",
            )
        etype, obj, eid = event.get("type", ""), event["data"]["object"], event["id"]
        ok = {"received": True}
        if etype.startswith("checkout.session."):
            sid = obj.get("id")
            order = await self._one(store.BY_REF_SQL, ("stripe", sid))
            if order is None or obj.get("client_reference_id") not in (None, order["id"]):
                out = await self._log_only("stripe", raw, "ignored", "unknown_order", eid, etype)
                return Reply(200, {**ok, **out})
            if etype in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
                st = stripe_gw.session_status(obj)
            elif etype == "checkout.session.async_payment_failed":
                st = Status(FAILED, "async_payment_failed")
            elif etype == "checkout.session.expired":
                st = Status(EXPIRED, "expired")
            else:
                return Reply(200, {**ok, **await self._log_only("stripe", raw, "ignored", etype, eid, etype)})
            order_id = order["id"]
            out = await self._settle(
                "stripe",
                "webhook",
                raw,
                order_id,
                lambda conn: settle.apply(conn, order_id, st, self.clock.now(), self.ctx),
                event_id=eid,
                event_type=etype,
            )
            return Reply(200, {**ok, **out.body()})
        if etype == "charge.refunded" or etype.startswith("charge.dispute."):
            pi = obj.get("payment_intent")
            order = await self._stripe_order_for(pi, obj)
            if order is None:
                return Reply(200, {**ok, **await self._log_only("stripe", raw, "ignored", "unknown_order", eid, etype)})
            order_id = order["id"]
            now = self.clock.now()
            if etype == "charge.refunded":
                total = int(obj.get("amount_refunded") or 0)
                key = f"clawback:stripe:{obj.get('id')}:{total}"

                def work(conn):
                    fresh = store.get(conn, order_id)
                    if not fresh["gateway_txn"] and pi:
                        store.update(conn, order_id, now, gateway_txn=pi)
                    return settle.refund_to(conn, fresh, total, key, f"stripe refund {obj.get('id')}", now)
            else:
                status = obj.get("status", "")
                if etype == "charge.dispute.funds_reinstated":
                    status = "won"
                elif etype in ("charge.dispute.created", "charge.dispute.funds_withdrawn"):
                    status = "open"
                elif etype == "charge.dispute.closed":
                    status = status if status in ("won", "lost") else "lost"
                else:
                    return Reply(200, {**ok, **await self._log_only("stripe", raw, "ignored", etype, eid, etype)})
                amount, did = int(obj.get("amount") or 0), str(obj.get("id"))

                def work(conn):
                    fresh = store.get(conn, order_id)
                    out = settle.dispute(conn, fresh, did, amount, status, now)
                    out.order = store.order_json(store.get(conn, order_id))
                    return out

            out = await self._settle("stripe", "webhook", raw, order_id, work, event_id=eid, event_type=etype)
            return Reply(200, {**ok, **out.body()})
        return Reply(200, {**ok, **await self._log_only("stripe", raw, "ignored", f"unhandled {etype}", eid, etype)})

    async def _stripe_order_for(self, pi: str | None, obj: dict) -> Any:
        if pi:
            order = await self._one(store.BY_TXN_SQL, ("stripe", pi))
            if order:
                return order
        order_id = (obj.get("metadata") or {}).get("order_id")
        if not order_id and pi:
            order_id = await self.gateways["stripe"].payment_intent_order(pi)
        if order_id:
            return await self._one("SELECT * FROM payment_orders WHERE gateway = 'stripe' AND id = ?", (order_id,))
        return None

    async def _log_only(
        self, gateway: str, raw: dict, verdict: str, reason: str, event_id: str | None, event_type: str | None
    ) -> dict:
        now, uid = self.clock.now(), self.ids.new()
        await self.write(
            lambda conn: store.log_event(
                conn,
                self.cipher,
                uid=uid,
                gateway=gateway,
                source="webhook",
                raw=raw,
                verdict=verdict,
                reason=reason,
                now=now,
                event_id=event_id,
                event_type=event_type,
            )
        )
        return {"verdict": verdict, "reason": reason}

    # -- reconciliation ------------------------------------------------------------------
    def on_builtin_defaults(self, gateway: str) -> bool:
        """True when a gateway runs on the built-in development defaults (eSewa's published UAT
        merchant and URLs): nobody configured it, so reconciliation must not talk to it (a
        restored database would otherwise send its orders to the real eSewa UAT)."""
        from dataclasses import fields

        prefix = f"{gateway}_"
        own = [f for f in fields(self.settings) if f.name.startswith(prefix)]
        return bool(own) and all(getattr(self.settings, f.name) == f.default for f in own)

    async def reconcile(
        self, order_id: str | None = None, limit: int = 200, failures: list[dict[str, str]] | None = None
    ) -> dict[str, int]:
        """Re-ask the gateways about pending orders (until final) and about completed eSewa/Khalti
        orders (for refunds, for payment_refund_watch_days). Idempotent; safe to run any time.
        Gateways that are not configured (off, or on built-in defaults) are skipped and counted;
        an order whose gateway could not answer is counted `unavailable` and, when `failures` is
        given, described there."""
        now = self.clock.now()
        s = self.settings
        if order_id:
            rows = await self.fetchall("SELECT * FROM payment_orders WHERE id = ?", (order_id,))
            if not rows:
                raise NotFound("no such order", field="order")
        else:
            due = iso(now - timedelta(seconds=s.payment_recheck_after))
            rows = await self.fetchall(
                "SELECT * FROM payment_orders WHERE status IN ('created','pending') AND created_at <= ? "
                "AND (checked_at IS NULL OR checked_at <= ?) ORDER BY created_at LIMIT ?",
                (due, due, limit),
            )
            rows += await self.fetchall(
                "SELECT * FROM payment_orders WHERE gateway IN ('esewa','khalti') AND status IN "
                "('completed','partially_refunded') AND completed_at >= ? AND (checked_at IS NULL OR checked_at <= ?) "
                "ORDER BY checked_at LIMIT ?",
                (
                    iso(now - timedelta(days=s.payment_refund_watch_days)),
                    iso(now - timedelta(seconds=s.payment_refund_check_interval)),
                    limit,
                ),
            )
        counts: dict[str, int] = {"checked": 0}
        for order in rows:
            gw = self.gateways.get(order["gateway"])
            if gw is None or self.on_builtin_defaults(order["gateway"]):
                counts["skipped_unconfigured"] = counts.get("skipped_unconfigured", 0) + 1
                if failures is not None:
                    failures.append(
                        {
                            "order": order["id"],
                            "gateway": order["gateway"],
                            "problem": f"{order['gateway']} is not configured on this server: skipped",
                        }
                    )
                continue
            counts["checked"] += 1
            try:
                st = await gw.status(self._ref(order))
            except GatewayUnavailable as exc:
                st = Status(UNKNOWN, f"unavailable: {exc.message}")
                counts["unavailable"] = counts.get("unavailable", 0) + 1
                if failures is not None:
                    failures.append({"order": order["id"], "gateway": order["gateway"], "problem": exc.message})
            oid = order["id"]
            expired = parse_iso(order["expires_at"]) <= self.clock.now()

            def work(conn, oid=oid, st=st, expired=expired):
                t = self.clock.now()
                out = settle.apply(conn, oid, st, t, self.ctx)
                fresh = store.get(conn, oid)
                if expired and fresh["status"] in store.OPEN and st.state in (PENDING, UNKNOWN):
                    store.update(
                        conn,
                        oid,
                        t,
                        status="expired",
                        needs_review=1 if st.state == PENDING else 0,
                        note=f"no final status before expiry (last: {st.gateway_status})",
                    )
                    out = settle.Outcome("expired", f"expired; last status {st.gateway_status}")
                conn.execute(
                    "UPDATE payment_orders SET checked_at = ?, check_count = check_count + 1 WHERE id = ?",
                    (iso(t), oid),
                )
                out.order = store.order_json(store.get(conn, oid))
                return out

            raw = {"status": st.gateway_status, "answer": st.raw}
            out = await self._settle(
                order["gateway"],
                "reconcile",
                raw,
                oid,
                work,
                log_always=False,
                event_id=f"{order['gateway']}:{order['gateway_ref']}:{st.gateway_status}",
            )
            counts[out.verdict] = counts.get(out.verdict, 0) + 1
        return counts

    # -- admin ------------------------------------------------------------------------------
    async def manual_refund(self, order_id: str, amount: int | None, reason: str, actor: audit.Actor) -> dict:
        if not reason.strip():
            raise Invalid("a reason is required", field="reason")
        now, uid = self.clock.now(), self.ids.new()

        def unit(conn):
            order = store.get(conn, order_id)
            if order["status"] not in store.CREDITED:
                raise Conflict(
                    f"the order is {order['status']}; only credited orders can be refunded", code="order_not_credited"
                )
            left = order["amount_minor"] - order["refunded_minor"]
            amt = left if amount is None else amount
            if not 0 < amt <= left:
                raise Invalid(f"amount must be between 1 and {left}", field="amount")
            total = order["refunded_minor"] + amt
            out = settle.refund_to(conn, order, total, f"clawback:manual:{order_id}:{total}", f"manual: {reason}", now)
            store.update(conn, order_id, now, needs_review=0)
            out.order = store.order_json(store.get(conn, order_id), admin=True)
            audit.record(
                conn,
                actor,
                "payments.refund",
                target_type="payment_order",
                target_id=order_id,
                before={"status": order["status"], "refunded": order["refunded_minor"]},
                after={"status": out.order["status"], "refunded": total, "reason": reason, "result": out.reason},
                at=iso(now),
            )
            store.log_event(
                conn,
                self.cipher,
                uid=uid,
                gateway=order["gateway"],
                source="admin",
                raw={"actor": actor.name, "amount": amt, "reason": reason},
                verdict=out.verdict,
                reason=out.reason,
                now=now,
                order_id=order_id,
            )
            for event in out.events:
                emit(conn, event)
            return out

        out = await self.write(unit, after=self._count)
        return out.body()
