"""Simulator state and protocol logic, free of HTTP so it can be unit-tested directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from ..payments.gateways import esewa as esewa_proto

NPT = timezone(timedelta(hours=5, minutes=45))
ESEWA_REQUIRED = (
    "amount",
    "tax_amount",
    "product_service_charge",
    "product_delivery_charge",
    "total_amount",
    "transaction_uuid",
    "product_code",
    "success_url",
    "failure_url",
    "signed_field_names",
    "signature",
)
ESEWA_RESPONSE_SIGNED = "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names"


def _rand(n: int = 14) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass
class SimConfig:
    base_url: str = "http://127.0.0.1:9090"
    esewa_product_code: str = esewa_proto.PUBLISHED_PRODUCT_CODE
    esewa_secret: str = esewa_proto.PUBLISHED_UAT_KEY
    khalti_secret: str = "test_secret_key_halobuzz_sim"
    stripe_secret: str = "sk_test_halobuzz_sim"
    stripe_webhook_secret: str = "whsec_halobuzz_sim"
    stripe_webhook_url: str = ""
    stripe_retry_delays: tuple[float, ...] = (1, 5, 25, 125)  # live Stripe backs off up to 3 days


class SimError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        raise SimError(400, {"code": "ES102", "error_message": "Invalid amount"}) from None


# -- eSewa -------------------------------------------------------------------------------------


@dataclass
class EsewaTxn:
    uuid: str
    total_amount: str
    product_code: str
    success_url: str
    failure_url: str
    status: str = "PENDING"
    ref_id: str | None = None


class EsewaSim:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.txns: dict[str, EsewaTxn] = {}
        self.outage = False

    def form(self, fields: dict[str, str]) -> EsewaTxn:
        missing = [f for f in ESEWA_REQUIRED if not fields.get(f)]
        if missing:
            raise SimError(400, {"code": "ES101", "error_message": f"Required fields missing: {', '.join(missing)}"})
        if fields["product_code"] != self.cfg.esewa_product_code:
            raise SimError(400, {"code": "ES103", "error_message": "Invalid product code"})
        parts = [
            _decimal(fields[k]) for k in ("amount", "tax_amount", "product_service_charge", "product_delivery_charge")
        ]
        if sum(parts) != _decimal(fields["total_amount"]):
            raise SimError(400, {"code": "ES102", "error_message": "Total amount mismatch"})
        uuid = fields["transaction_uuid"]
        if not all(c.isalnum() or c == "-" for c in uuid) or not uuid.isascii():
            raise SimError(400, {"code": "ES105", "error_message": "Invalid transaction_uuid"})
        names = fields["signed_field_names"]
        try:
            expected = esewa_proto.sign_fields(fields, names, self.cfg.esewa_secret)
        except KeyError:
            raise SimError(400, {"code": "ES104", "error_message": "Invalid payload signature"}) from None
        if not hmac.compare_digest(expected, fields["signature"]):
            raise SimError(400, {"code": "ES104", "error_message": "Invalid payload signature"})
        if uuid in self.txns and self.txns[uuid].status != "PENDING":
            raise SimError(400, {"code": "ES106", "error_message": "Duplicate transaction_uuid"})
        txn = EsewaTxn(
            uuid, fields["total_amount"], fields["product_code"], fields["success_url"], fields["failure_url"]
        )
        self.txns[uuid] = txn
        return txn

    def pay(self, uuid: str, success: bool = True) -> str:
        """The customer finishes (or abandons) the payment: returns the browser redirect URL."""
        txn = self.txns.get(uuid)
        if txn is None:
            raise SimError(404, {"code": "ES107", "error_message": "Unknown transaction"})
        if not success:
            txn.status = "CANCELED"
            return txn.failure_url
        txn.status = "COMPLETE"
        txn.ref_id = txn.ref_id or "000" + _rand(4).upper()
        return txn.success_url + ("&" if "?" in txn.success_url else "?") + urlencode({"data": self.success_data(txn)})

    def success_data(self, txn: EsewaTxn) -> str:
        body = {
            "transaction_code": txn.ref_id,
            "status": txn.status,
            "total_amount": f"{_decimal(txn.total_amount):.1f}",
            "transaction_uuid": txn.uuid,
            "product_code": txn.product_code,
            "signed_field_names": ESEWA_RESPONSE_SIGNED,
        }
        body["signature"] = esewa_proto.sign_fields(body, ESEWA_RESPONSE_SIGNED, self.cfg.esewa_secret)
        return base64.b64encode(json.dumps(body).encode()).decode()

    def status(self, product_code: str, total_amount: str, uuid: str) -> dict[str, Any]:
        if self.outage:
            raise SimError(503, {"code": 0, "error_message": "Service is currently unavailable"})
        txn = self.txns.get(uuid)
        try:
            amount_ok = txn is not None and _decimal(total_amount.replace(",", "")) == _decimal(txn.total_amount)
        except SimError:
            amount_ok = False
        if txn is None or txn.product_code != product_code or not amount_ok:
            return {
                "product_code": product_code,
                "transaction_uuid": uuid,
                "total_amount": 0.0,
                "status": "NOT_FOUND",
                "ref_id": None,
            }
        return {
            "product_code": txn.product_code,
            "transaction_uuid": uuid,
            "total_amount": float(_decimal(txn.total_amount)),
            "status": txn.status,
            "ref_id": txn.ref_id,
        }


# -- Khalti ------------------------------------------------------------------------------------


@dataclass
class KhaltiPayment:
    pidx: str
    amount: int
    purchase_order_id: str
    purchase_order_name: str
    return_url: str
    expires_at: datetime
    status: str = "Initiated"
    transaction_id: str | None = None
    refunded: bool = False


class KhaltiSim:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.payments: dict[str, KhaltiPayment] = {}

    def auth(self, header: str | None) -> None:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "key" or not key:
            raise SimError(401, {"detail": "Authentication credentials were not provided.", "status_code": 401})
        if not hmac.compare_digest(key.strip(), self.cfg.khalti_secret):
            raise SimError(401, {"detail": "Invalid token.", "status_code": 401})

    def initiate(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SimError(400, {"detail": "Invalid payload.", "error_key": "validation_error"})
        errors: dict[str, list[str]] = {}
        for f in ("return_url", "website_url", "amount", "purchase_order_id", "purchase_order_name"):
            if body.get(f) in (None, ""):
                errors[f] = ["This field is required."]
        amount = body.get("amount")
        if "amount" not in errors:
            if not isinstance(amount, int) or isinstance(amount, bool):
                errors["amount"] = ["A valid integer is required."]
            elif amount < 1000:
                errors["amount"] = ["Amount should be greater than Rs. 10, that is 1000 paisa."]
        for f in ("return_url", "website_url"):
            if f not in errors and not str(body[f]).startswith(("http://", "https://")):
                errors[f] = ["Enter a valid URL."]
        breakdown = body.get("amount_breakdown")
        if breakdown and isinstance(amount, int) and sum(int(i.get("amount", 0)) for i in breakdown) != amount:
            errors["amount_breakdown"] = ["Amount Breakdown mismatch."]
        if errors:
            raise SimError(400, {**errors, "error_key": "validation_error"})
        pidx = _rand(22)
        expires = datetime.now(NPT) + timedelta(seconds=1800)
        self.payments[pidx] = KhaltiPayment(
            pidx,
            amount,
            str(body["purchase_order_id"]),
            str(body["purchase_order_name"]),
            str(body["return_url"]),
            expires,
        )
        return {
            "pidx": pidx,
            "payment_url": f"{self.cfg.base_url}/khalti/pay/?pidx={pidx}",
            "expires_at": expires.isoformat(),
            "expires_in": 1800,
        }

    def pay(self, pidx: str, status: str = "Completed") -> str:
        p = self.payments.get(pidx)
        if p is None:
            raise SimError(404, {"detail": "Not found.", "error_key": "validation_error"})
        p.status = status
        if status == "Completed":
            p.transaction_id = p.transaction_id or _rand(22)
        q = {
            "pidx": pidx,
            "transaction_id": p.transaction_id or "",
            "tidx": p.transaction_id or "",
            "txnId": p.transaction_id or "",
            "amount": p.amount,
            "total_amount": p.amount,
            "mobile": "98XXXXX000" if status == "Completed" else "",
            "status": status,
            "purchase_order_id": p.purchase_order_id,
            "purchase_order_name": p.purchase_order_name,
        }
        return p.return_url + ("&" if "?" in p.return_url else "?") + urlencode(q)

    def lookup(self, body: Any) -> tuple[int, dict[str, Any]]:
        pidx = body.get("pidx") if isinstance(body, dict) else None
        p = self.payments.get(pidx or "")
        if p is None:
            return 404, {"detail": "Not found.", "error_key": "validation_error"}
        if p.status == "Initiated" and datetime.now(NPT) > p.expires_at:
            p.status = "Expired"
        out = {
            "pidx": p.pidx,
            "total_amount": p.amount,
            "status": p.status,
            "transaction_id": p.transaction_id,
            "fee": 0 if p.status != "Completed" else p.amount * 3 // 100,
            "refunded": p.refunded,
        }
        return (400 if p.status in ("Expired", "User canceled") else 200), out

    def set_status(self, pidx: str, status: str) -> None:
        p = self.payments.get(pidx)
        if p is None:
            raise SimError(404, {"detail": "Not found.", "error_key": "validation_error"})
        p.status = status
        p.refunded = status.lower() in ("refunded", "partially refunded")


# -- Stripe ------------------------------------------------------------------------------------


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding: a[b][0][c]=v -> {"a": {"b": [{"c": "v"}]}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0]] + [p.rstrip("]") for p in key.split("[")[1:]]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = [] if nxt_is_index else {}
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


def stripe_signature(payload: str, secret: str, ts: int | None = None) -> str:
    ts = int(time.time()) if ts is None else ts
    sig = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={sig}"


def stripe_error(status: int, message: str, typ: str = "invalid_request_error", param: str | None = None) -> SimError:
    err: dict[str, Any] = {"type": typ, "message": message}
    if param:
        err["param"] = param
    return SimError(status, {"error": err})


class StripeSim:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.idempotent: dict[str, dict[str, Any]] = {}

    def auth(self, header: str | None) -> None:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise stripe_error(401, "You did not provide an API key.")
        if not hmac.compare_digest(key, self.cfg.stripe_secret):
            raise stripe_error(401, f"Invalid API Key provided: {key[:8]}***")

    def create_session(self, p: dict[str, Any], idem: str | None) -> dict[str, Any]:
        if idem and idem in self.idempotent:
            return self.idempotent[idem]
        if p.get("mode") != "payment":
            raise stripe_error(400, "Only mode=payment is simulated.", param="mode")
        items = p.get("line_items") or []
        total, currency = 0, None
        for i, item in enumerate(items):
            pd = (item or {}).get("price_data") or {}
            try:
                amount, qty = int(pd["unit_amount"]), int(item.get("quantity", 1))
            except (KeyError, ValueError, TypeError):
                raise stripe_error(
                    400,
                    "Missing required param: line_items[0][price_data][unit_amount].",
                    param=f"line_items[{i}][price_data][unit_amount]",
                ) from None
            currency = currency or pd.get("currency")
            total += amount * qty
        if not items or total <= 0 or not currency:
            raise stripe_error(400, "Missing required param: line_items.", param="line_items")
        if currency == "usd" and total < 50:
            raise stripe_error(400, "The Checkout Session's total amount due must add up to at least $0.50 usd")
        for f in ("success_url",):
            if not p.get(f):
                raise stripe_error(400, f"Missing required param: {f}.", param=f)
        sid = "cs_test_" + _rand(24)
        now = int(time.time())
        session = {
            "id": sid,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "amount_subtotal": total,
            "currency": currency,
            "client_reference_id": p.get("client_reference_id"),
            "metadata": p.get("metadata") or {},
            "payment_intent": None,
            "url": f"{self.cfg.base_url}/stripe/pay/{sid}",
            "success_url": p.get("success_url"),
            "cancel_url": p.get("cancel_url"),
            "created": now,
            "expires_at": now + 86400,
            "livemode": False,
            "_pi_metadata": ((p.get("payment_intent_data") or {}).get("metadata") or {}),
        }
        self.sessions[sid] = session
        out = self.public(session)
        if idem:
            self.idempotent[idem] = out
        return out

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def get(self, kind: str, oid: str) -> dict[str, Any]:
        table = {"session": self.sessions, "payment_intent": self.intents, "charge": self.charges}[kind]
        if oid not in table:
            raise stripe_error(404, f"No such {kind}: '{oid}'", param="id")
        return self.public(table[oid])

    def _event(self, etype: str, obj: dict[str, Any]) -> dict[str, Any]:
        ev = {
            "id": "evt_" + _rand(24),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "data": {"object": self.public(dict(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": etype,
        }
        self.events.append(ev)
        return ev

    def _charge_for(self, session: dict[str, Any]) -> None:
        pi_id, ch_id = "pi_" + _rand(24), "ch_" + _rand(24)
        amount, cur = session["amount_total"], session["currency"]
        self.intents[pi_id] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": cur,
            "status": "processing",
            "metadata": session["_pi_metadata"],
            "latest_charge": ch_id,
        }
        self.charges[ch_id] = {
            "id": ch_id,
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "currency": cur,
            "payment_intent": pi_id,
            "refunded": False,
            "disputed": False,
            "paid": False,
            "status": "pending",
            "metadata": {},
        }
        session["payment_intent"] = pi_id

    def pay(self, sid: str, outcome: str = "paid") -> list[dict[str, Any]]:
        """outcome: paid | unpaid (delayed method) | async_succeeded | async_failed | expired."""
        s = self.sessions.get(sid)
        if s is None:
            raise stripe_error(404, f"No such checkout.session: '{sid}'")
        if outcome == "expired":
            s["status"] = "expired"
            return [self._event("checkout.session.expired", s)]
        if outcome in ("paid", "unpaid"):
            if s["status"] != "open":
                raise stripe_error(400, f"This Checkout Session is {s['status']}.")
            self._charge_for(s)
            s["status"] = "complete"
            if outcome == "paid":
                self._settle(s, True)
            return [self._event("checkout.session.completed", s)]
        if outcome in ("async_succeeded", "async_failed"):
            if s["status"] != "complete" or s["payment_status"] != "unpaid":
                raise stripe_error(400, "No delayed payment is pending for this session.")
            self._settle(s, outcome == "async_succeeded")
            name = "async_payment_succeeded" if outcome == "async_succeeded" else "async_payment_failed"
            return [self._event(f"checkout.session.{name}", s)]
        raise stripe_error(400, f"unknown outcome {outcome!r}")

    def _settle(self, s: dict[str, Any], ok: bool) -> None:
        pi = self.intents[s["payment_intent"]]
        ch = self.charges[pi["latest_charge"]]
        pi["status"] = "succeeded" if ok else "requires_payment_method"
        ch.update(paid=ok, status="succeeded" if ok else "failed")
        s["payment_status"] = "paid" if ok else "unpaid"

    def refund(
        self, payment_intent: str | None = None, charge: str | None = None, amount: int | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if payment_intent and not charge:
            pi = self.intents.get(payment_intent)
            if pi is None:
                raise stripe_error(404, f"No such payment_intent: '{payment_intent}'", param="payment_intent")
            charge = pi["latest_charge"]
        ch = self.charges.get(charge or "")
        if ch is None or not ch["paid"]:
            raise stripe_error(400, "This charge cannot be refunded.", param="charge")
        left = ch["amount"] - ch["amount_refunded"]
        amount = left if amount is None else int(amount)
        if not 0 < amount <= left:
            raise stripe_error(
                400, f"Refund amount ({amount}) is greater than unrefunded amount ({left}).", param="amount"
            )
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] == ch["amount"]
        refund = {
            "id": "re_" + _rand(24),
            "object": "refund",
            "amount": amount,
            "charge": ch["id"],
            "payment_intent": ch["payment_intent"],
            "status": "succeeded",
            "currency": ch["currency"],
        }
        return refund, [self._event("charge.refunded", ch)]

    def dispute(self, payment_intent: str, status: str, amount: int | None = None) -> list[dict[str, Any]]:
        pi = self.intents.get(payment_intent)
        if pi is None:
            raise stripe_error(404, f"No such payment_intent: '{payment_intent}'")
        ch = self.charges[pi["latest_charge"]]
        d = next((d for d in self.disputes.values() if d["charge"] == ch["id"]), None)
        if d is None:
            d = {
                "id": "dp_" + _rand(24),
                "object": "dispute",
                "charge": ch["id"],
                "payment_intent": payment_intent,
                "amount": amount or ch["amount"],
                "currency": ch["currency"],
                "reason": "fraudulent",
                "status": "needs_response",
            }
            self.disputes[d["id"]] = d
            ch["disputed"] = True
            return [self._event("charge.dispute.created", d)]
        if status in ("won", "lost"):
            d["status"] = status
            return [self._event("charge.dispute.closed", d)]
        raise stripe_error(400, "the dispute is already open")

    def signed(self, event: dict[str, Any], ts: int | None = None) -> tuple[str, str]:
        payload = json.dumps(event, indent=2)
        return payload, stripe_signature(payload, self.cfg.stripe_webhook_secret, ts)
