"""Roles and what each may do. A higher role includes the lower ones."""

from __future__ import annotations

ROLES = ("user", "host", "moderator", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
STATUSES = ("active", "suspended", "banned")


def at_least(role: str, required: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[required]


def trust_level(score: int, verified: bool = False) -> str:
    """The seed's trust levels from the 0-100 score (halobuzz.trust.scoring.level_of is the rule)."""
    if verified and score >= 40:
        return "verified"
    if score >= 70:
        return "high"
    if score >= 40:
        return "medium"
    return "low"
