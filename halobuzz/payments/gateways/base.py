"""What every gateway client gives the payment flow: a way to start a payment and a
status check, both in plain values. Network failures become GatewayUnavailable (try later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# Our states for what a gateway says about one payment.
COMPLETED, PENDING, FAILED, EXPIRED = "completed", "pending", "failed", "expired"
REFUNDED, PARTIALLY_REFUNDED, UNKNOWN = "refunded", "partially_refunded", "unknown"


@dataclass(frozen=True)
class OrderRef:
    """The parts of our order a gateway needs."""

    id: str
    amount_minor: int
    currency: str
    name: str
    gateway_ref: str | None = None


@dataclass(frozen=True)
class Checkout:
    redirect: dict[str, Any]  # {"method": "GET"|"POST", "url": ..., "fields": {...}}
    gateway_ref: str | None = None  # pidx / cs_... (eSewa: our id)
    expires_at: str | None = None


@dataclass(frozen=True)
class Status:
    """A server-side answer about one payment."""

    state: str  # one of the constants above
    gateway_status: str  # the gateway's own word (COMPLETE, Completed, paid ...)
    amount_minor: int | None = None
    currency: str | None = None
    txn: str | None = None  # eSewa ref_id, Khalti transaction_id, Stripe payment_intent
    raw: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Urls:
    """Where the gateway sends the browser back (built from public_url)."""

    esewa_success: str
    esewa_failure: str
    khalti_return: str
    website: str
    stripe_success: str
    stripe_cancel: str


class Gateway(Protocol):
    name: str

    async def start(self, order: OrderRef, urls: Urls) -> Checkout: ...

    async def status(self, order: OrderRef) -> Status: ...
