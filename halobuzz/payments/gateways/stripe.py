"""Stripe Checkout (USD) through the official SDK, pointed at a configurable API base.

Orders become Checkout Sessions (mode=payment) carrying our order id in
client_reference_id, metadata and payment_intent_data.metadata, so refund and dispute
events (Charge / Dispute objects) map back through their payment_intent. Webhooks are
verified with stripe.Webhook.construct_event over the raw body (SDK; any v1 matches,
v0 ignored, old timestamps refused); we also refuse timestamps too far in the future.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ...errors import GatewayRefused, GatewayUnavailable
from .base import (
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    UNKNOWN,
    Checkout,
    OrderRef,
    Status,
    Urls,
)

PUBLISHED_TEST_SECRETS = ("whsec_test_secret",)


def _sdk() -> Any:
    """The Stripe SDK, imported on first use: importing it costs 0.1-0.2 s of every start-up, and
    most appliances never configure Stripe."""
    import stripe  # noqa: PLC0415

    return stripe


class BadWebhook(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def verify_webhook(raw: bytes, header: str | None, secret: str, tolerance: int, now: float | None = None) -> dict:
    """The verified event as a plain dict, or BadWebhook."""
    try:
        _sdk().Webhook.construct_event(raw, header, secret, tolerance=tolerance)
    except _sdk().SignatureVerificationError as exc:
        raise BadWebhook("bad_signature", str(exc).split(".")[0]) from None
    except (ValueError, UnicodeDecodeError):
        raise BadWebhook("malformed", "the body is not a JSON event") from None
    ts = timestamp_of(header or "")
    now = time.time() if now is None else now
    if tolerance and ts is not None and ts > now + tolerance:
        raise BadWebhook("bad_signature", "Stripe-Signature timestamp is in the future")
    event = json.loads(raw)
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
        or not isinstance(event.get("id"), str)
    ):
        raise BadWebhook("malformed", "not a Stripe event object")
    return event


def timestamp_of(header: str) -> int | None:
    for item in header.split(","):
        k, _, v = item.partition("=")
        if k.strip() == "t":
            try:
                return int(v)
            except ValueError:
                return None
    return None


def session_status(session: dict[str, Any], raw: str = "") -> Status:
    pay = session.get("payment_status")
    st = session.get("status")
    if pay == "paid":
        state = COMPLETED
    elif st == "expired":
        state = EXPIRED
    elif st in ("open", "complete"):
        state = PENDING
    else:
        state = UNKNOWN
    amount = session.get("amount_total")
    currency = session.get("currency")
    return Status(
        state,
        f"{st}/{pay}",
        amount if isinstance(amount, int) else None,
        currency.upper() if isinstance(currency, str) else None,
        session.get("payment_intent"),
        raw=raw,
    )


@dataclass
class StripeGateway:
    api_base: str
    secret_key: str
    webhook_secret: str
    client: Any = None
    name: str = "stripe"

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = _sdk().StripeClient(
                self.secret_key,
                base_addresses={"api": self.api_base.rstrip("/")},
                http_client=_sdk().HTTPXClient(timeout=15),
                max_network_retries=1,
            )

    async def start(self, order: OrderRef, urls: Urls) -> Checkout:
        meta = {"order_id": order.id}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": order.amount_minor,
                        "product_data": {"name": order.name},
                    },
                }
            ],
            "client_reference_id": order.id,
            "metadata": meta,
            "payment_intent_data": {"metadata": meta},
            "success_url": urls.stripe_success,
            "cancel_url": urls.stripe_cancel,
        }
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": f"order-{order.id}"}
            )
        except _sdk().APIConnectionError as exc:
            raise GatewayUnavailable(f"Stripe unreachable: {exc.user_message or exc}") from None
        except _sdk().StripeError as exc:
            if (exc.http_status or 500) >= 500:
                raise GatewayUnavailable(f"Stripe error {exc.http_status}") from None
            raise GatewayRefused(f"Stripe refused the session: {exc.user_message or exc}") from None
        data = _plain(session)
        return Checkout(
            {"method": "GET", "url": data["url"]},
            gateway_ref=data["id"],
            expires_at=str(data["expires_at"]) if data.get("expires_at") else None,
        )

    async def status(self, order: OrderRef) -> Status:
        if not order.gateway_ref:
            return Status(FAILED, "no session")
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(order.gateway_ref)
        except _sdk().StripeError as exc:
            raise GatewayUnavailable(f"Stripe session lookup failed: {exc.__class__.__name__}") from None
        data = _plain(session)
        return session_status(data, json.dumps(data))

    async def payment_intent_order(self, payment_intent: str) -> str | None:
        """Our order id from a PaymentIntent's metadata (refund/dispute arriving before the credit)."""
        try:
            pi = await self.client.v1.payment_intents.retrieve_async(payment_intent)
        except _sdk().StripeError:
            return None
        meta = _plain(pi).get("metadata") or {}
        return meta.get("order_id")


def _plain(obj: Any) -> dict[str, Any]:
    """SDK objects (StripeObject is not a dict since v15) as plain dicts."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
