"""Khalti KPG-2 (ePayment web checkout): server-side initiate, unsigned browser callback,
and the lookup API as the only source of truth (`Authorization: Key <secret>`)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ...errors import GatewayRefused, GatewayUnavailable
from .base import (
    COMPLETED,
    EXPIRED,
    FAILED,
    PARTIALLY_REFUNDED,
    PENDING,
    REFUNDED,
    UNKNOWN,
    Checkout,
    OrderRef,
    Status,
    Urls,
)

# Compared case-insensitively: the docs spell "Partially Refunded" both ways.
STATES = {
    "completed": COMPLETED,
    "pending": PENDING,
    "initiated": PENDING,
    "refunded": REFUNDED,
    "partially refunded": PARTIALLY_REFUNDED,
    "expired": EXPIRED,
    "user canceled": FAILED,
    "canceled": FAILED,
    "failed": FAILED,
}


@dataclass
class Khalti:
    api_base: str
    secret: str
    http: httpx.AsyncClient
    name: str = "khalti"

    def _url(self, path: str) -> str:
        return self.api_base.rstrip("/") + "/" + path

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.secret}"}

    async def start(self, order: OrderRef, urls: Urls) -> Checkout:
        body = {
            "return_url": urls.khalti_return,
            "website_url": urls.website,
            "amount": order.amount_minor,
            "purchase_order_id": order.id,
            "purchase_order_name": order.name,
        }
        try:
            resp = await self.http.post(self._url("epayment/initiate/"), json=body, headers=self._headers())
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayUnavailable(f"Khalti initiate failed: {exc.__class__.__name__}") from None
        if resp.status_code != 200 or "pidx" not in data:
            if resp.status_code >= 500:
                raise GatewayUnavailable(f"Khalti initiate answered {resp.status_code}")
            raise GatewayRefused(f"Khalti refused the payment: {str(data)[:300]}")
        return Checkout(
            {"method": "GET", "url": data["payment_url"]}, gateway_ref=data["pidx"], expires_at=data.get("expires_at")
        )

    async def status(self, order: OrderRef) -> Status:
        if not order.gateway_ref:
            return Status(FAILED, "no pidx")
        try:
            resp = await self.http.post(
                self._url("epayment/lookup/"), json={"pidx": order.gateway_ref}, headers=self._headers()
            )
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayUnavailable(f"Khalti lookup failed: {exc.__class__.__name__}") from None
        # Expired and User canceled come back as HTTP 400 with a status body: read it anyway.
        if not isinstance(data, dict) or "status" not in data:
            if resp.status_code == 404:
                return Status(EXPIRED, "not found", raw=resp.text)
            raise GatewayUnavailable(f"Khalti lookup answered {resp.status_code}: {resp.text[:200]}")
        if data.get("pidx") not in (None, order.gateway_ref):
            return Status(
                UNKNOWN, str(data.get("status")), raw=resp.text, extra={"problem": "lookup is for another pidx"}
            )
        word = str(data["status"])
        amount = data.get("total_amount")
        return Status(
            STATES.get(word.strip().lower(), UNKNOWN),
            word,
            int(amount) if isinstance(amount, int) else None,
            "NPR",
            data.get("transaction_id"),
            raw=resp.text,
            extra={"refunded": bool(data.get("refunded"))},
        )
