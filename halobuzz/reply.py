"""What a domain call answers when the HTTP status is part of the rule (created, accepted,
replayed under an Idempotency-Key): the one Reply every package returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    replayed: bool = False  # answered from the stored first reply of an Idempotency-Key
