"""Decoding request bodies and queries against msgspec schemas, with errors that name the field."""

from __future__ import annotations

import re
from typing import Any, Type, TypeVar

import msgspec

from ..errors import Invalid, PayloadTooLarge

T = TypeVar("T")
_AT = re.compile(r"at `\$\.?([^`]*)`")
_FIELD = re.compile(r"field `([^`]+)`")


def _field_of(message: str) -> str:
    m = _AT.search(message)
    if m and m.group(1):
        return m.group(1).split("[")[0]
    m = _FIELD.search(message)
    return m.group(1) if m else "body"


def _human(message: str) -> str:
    text = _AT.sub("", message).strip().rstrip("-").strip()
    if text.startswith("Object contains unknown field"):
        return "is not a known field"
    if text.startswith("Object missing required field"):
        return "is required"
    return text.replace("`", "")


def decode_json(body: bytes | None, schema: Type[T], max_bytes: int) -> T:
    if body is not None and len(body) > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    if not body:
        raise Invalid("request body must be a JSON object", field="body")
    try:
        return msgspec.json.decode(body, type=schema)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        if "got `float`" in msg:
            # JSON has one number type: 3.0 is the integer 3 (JSON Schema says so too). Only on
            # this error path, so the common case decodes once.
            try:
                return msgspec.convert(_integral(msgspec.json.decode(body)), schema)
            except msgspec.ValidationError as again:
                msg = str(again)
        field = _field_of(msg)
        raise Invalid(f"{field}: {_human(msg)}", fields={field: _human(msg)}) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise Invalid("request body is not valid JSON (UTF-8)", field="body") from None


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def decode_query(args: dict[str, list[str]], schema: Type[T]) -> T:
    """Query strings are all text; msgspec converts with str_keys/strict=False semantics."""
    raw: dict[str, Any] = {}
    for key, values in args.items():
        raw[key] = values[-1]
    try:
        return msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        field = _field_of(msg)
        raise Invalid(f"{field}: {_human(msg)}", fields={field: _human(msg)}) from None


class Schema(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Base for request bodies: camelCase on the wire, unknown fields refused."""
