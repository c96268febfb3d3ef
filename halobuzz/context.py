"""The parts of a running appliance, built once by create_app and passed down.

Routes reach them as `request.app.ctx.hb`; jobs and the CLI build their own.
No module-level globals hold any of this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .accounts.service import Accounts
from .config import Settings
from .db import Database
from .events import Bus
from .infra.clock import Clock
from .infra.crypto import FieldCipher
from .infra.ids import IdFactory
from .infra.ratelimit import RateLimiter
from .observability.metrics import Metrics


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    ids: IdFactory
    db: Database
    bus: Bus
    metrics: Metrics
    limiter: RateLimiter
    cipher: FieldCipher
    accounts: Accounts
    # Named readiness checks added by later parts (replication, models): name -> () -> problem or None.
    readiness: dict[str, Callable[[], Any]] = field(default_factory=dict)
    # Anything a later part needs to hang on the app (rooms, scheduler, payment gateways ...).
    extras: dict[str, Any] = field(default_factory=dict)
