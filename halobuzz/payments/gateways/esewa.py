"""eSewa ePay v2: signed form post out, signed base64 JSON back, status API to confirm.

Signature: base64(HMAC-SHA256(secret, "name=value,..." over signed_field_names, in order)).
Response values are signed exactly as eSewa printed them, so the callback JSON is parsed
with numbers kept as their literal text (1000.0 must not become 1000).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from ...errors import GatewayUnavailable
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

REQUEST_SIGNED = "total_amount,transaction_uuid,product_code"
REQUIRED_RESPONSE_FIELDS = ("transaction_uuid", "total_amount", "status", "product_code")
PUBLISHED_UAT_KEY = "8gBm/:&EnhH.1/q"
PUBLISHED_PRODUCT_CODE = "EPAYTEST"
_UUID = re.compile(r"^[A-Za-z0-9-]{1,64}$")

STATES = {
    "COMPLETE": COMPLETED,
    "PENDING": PENDING,
    "AMBIGUOUS": PENDING,
    "NOT_FOUND": EXPIRED,
    "CANCELED": FAILED,
    "FULL_REFUND": REFUNDED,
    "PARTIAL_REFUND": PARTIALLY_REFUNDED,
}


class CallbackError(ValueError):
    """A success redirect that cannot be trusted; `reason` is a short machine word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sign(message: str, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def message_for(fields: dict[str, Any], names: str) -> str:
    return ",".join(f"{n}={fields[n]}" for n in names.split(","))


def sign_fields(fields: dict[str, Any], names: str, secret: str) -> str:
    return sign(message_for(fields, names), secret)


def rupees(amount_minor: int) -> str:
    """Our packs are whole rupees: sign and post integer strings ("10")."""
    if amount_minor % 100:
        raise ValueError("eSewa amounts must be whole rupees")
    return str(amount_minor // 100)


def form_fields(order: OrderRef, product_code: str, secret: str, urls: Urls) -> dict[str, str]:
    total = rupees(order.amount_minor)
    fields = {
        "amount": total,
        "tax_amount": "0",
        "product_service_charge": "0",
        "product_delivery_charge": "0",
        "total_amount": total,
        "transaction_uuid": order.id,
        "product_code": product_code,
        "success_url": urls.esewa_success,
        "failure_url": urls.esewa_failure,
        "signed_field_names": REQUEST_SIGNED,
    }
    fields["signature"] = sign_fields(fields, REQUEST_SIGNED, secret)
    return fields


def decode_data(data: str) -> dict[str, str]:
    """base64 JSON from the success redirect, numbers kept as literal text."""
    if not data or len(data) > 8192:
        raise CallbackError("malformed", "the data parameter is missing or too long")
    text = data.strip().replace(" ", "+")  # a framework may have turned '+' into a space
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(text)
        except (binascii.Error, ValueError):
            raise CallbackError("malformed", "data is not base64") from None
    try:
        obj = json.loads(raw.decode("utf-8"), parse_float=str, parse_int=str)
    except (UnicodeDecodeError, ValueError):
        raise CallbackError("malformed", "data is not base64 of a JSON object") from None
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        raise CallbackError("malformed", "data must be a flat JSON object")
    return obj


def verify_response(obj: dict[str, str], secret: str) -> None:
    """Check the response signature (raw literals first, then once without thousands commas)."""
    names = obj.get("signed_field_names", "")
    listed = names.split(",") if names else []
    if not all(f in listed for f in REQUIRED_RESPONSE_FIELDS):
        raise CallbackError(
            "weak_signature", "signed_field_names must cover transaction_uuid, total_amount, status and product_code"
        )
    if any(n not in obj for n in listed) or "signature" not in obj:
        raise CallbackError("malformed", "a signed field or the signature is missing")
    given = obj["signature"]
    if hmac.compare_digest(sign_fields(obj, names, secret), given):
        return
    if "," in obj.get("total_amount", ""):
        stripped = {**obj, "total_amount": obj["total_amount"].replace(",", "")}
        if hmac.compare_digest(sign_fields(stripped, names, secret), given):
            return
    raise CallbackError("bad_signature", "the response signature does not verify")


def amount_minor(text: str | int | float | None) -> int | None:
    """'1,000.0' / 1000.0 / '10' rupees -> paisa, exactly (Decimal)."""
    if text is None:
        return None
    try:
        value = Decimal(str(text).replace(",", "")) * 100
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() else None


@dataclass
class Esewa:
    product_code: str
    secret: str
    form_url: str
    status_url: str
    http: httpx.AsyncClient
    name: str = "esewa"

    async def start(self, order: OrderRef, urls: Urls) -> Checkout:
        if not _UUID.match(order.id):
            raise ValueError("transaction_uuid may hold only letters, digits and '-'")
        fields = form_fields(order, self.product_code, self.secret, urls)
        return Checkout({"method": "POST", "url": self.form_url, "fields": fields}, gateway_ref=order.id)

    async def status(self, order: OrderRef) -> Status:
        params = {
            "product_code": self.product_code,
            "total_amount": rupees(order.amount_minor),
            "transaction_uuid": order.id,
        }
        try:
            resp = await self.http.get(self.status_url, params=params)
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayUnavailable(f"eSewa status check failed: {exc.__class__.__name__}") from None
        if not isinstance(body, dict) or "status" not in body:
            # {"code": 0, "error_message": "..."}: service unavailable; try later.
            raise GatewayUnavailable(f"eSewa status check: {str(body)[:200]}")
        word = str(body.get("status"))
        if body.get("product_code") not in (None, self.product_code) or body.get("transaction_uuid") not in (
            None,
            order.id,
        ):
            return Status(UNKNOWN, word, raw=resp.text, extra={"problem": "status answer is for another payment"})
        return Status(
            STATES.get(word, UNKNOWN),
            word,
            amount_minor(body.get("total_amount")),
            "NPR",
            body.get("ref_id"),
            raw=resp.text,
        )
