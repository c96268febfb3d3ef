"""Small asyncio helpers shared by the long-running parts (replication, rooms, hub)."""

from __future__ import annotations

import asyncio
from typing import Any, Iterable


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel background tasks and wait until each has really finished (errors are theirs to log)."""
    pending = list(tasks)
    for t in pending:
        t.cancel()
    for t in pending:
        try:
            await t
        except (asyncio.CancelledError, Exception):
            pass
