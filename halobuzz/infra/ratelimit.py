"""In-process rate limiting with GCRA (generic cell rate algorithm).

One float per key (the theoretical arrival time) instead of a list of timestamps,
so a million distinct IPs cost a few tens of MB at worst and are pruned as they
go idle. `limit` requests per `window` seconds, bursting up to `limit`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    limit: int
    window: float  # seconds

    @classmethod
    def parse(cls, text: str) -> "Rule":
        """'100/15m', '10/1s', '5/1h' -> Rule."""
        try:
            count, per = text.strip().split("/")
            units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
            window = float(per[:-1] or 1) * units[per[-1]]
            rule = cls(int(count), window)
        except (ValueError, KeyError, IndexError):
            raise ValueError(f"rate limit {text!r} must look like 100/15m") from None
        if rule.limit <= 0 or rule.window <= 0:
            raise ValueError(f"rate limit {text!r} must be positive")
        return rule


class RateLimiter:
    def __init__(self, max_keys: int = 200_000) -> None:
        self._tat: dict[tuple[str, str], float] = {}
        self.max_keys = max_keys
        self._pruned_at = float("-inf")

    def hit(self, group: str, key: str, rule: Rule, now: float) -> float:
        """Count one request. Returns 0 if allowed, else seconds until it would be."""
        interval = rule.window / rule.limit
        k = (group, key)
        tat = max(self._tat.get(k, now), now)
        allow_at = tat + interval - rule.window
        if allow_at > now:
            return allow_at - now
        self._tat.pop(k, None)  # re-insert: dict order stays "least recently seen first"
        self._tat[k] = tat + interval
        if len(self._tat) > self.max_keys:
            self.prune(now)
        return 0.0

    def prune(self, now: float) -> None:
        """Forget drained buckets (at most once a second: a scan is O(keys)); if a flood of
        distinct keys (e.g. IPv6 addresses) still overflows, drop the least recently seen tenth."""
        if now - self._pruned_at >= 1.0:
            self._pruned_at = now
            for k in [k for k, tat in self._tat.items() if tat <= now]:
                del self._tat[k]
        if len(self._tat) > self.max_keys:
            for k in list(itertools.islice(self._tat, max(1, self.max_keys // 10))):
                del self._tat[k]


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
