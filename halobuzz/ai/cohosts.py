"""Cohost suggestions: rank the other live hosts for a host, with the reasons shown.

    language   40  same language (Devanagari share of the title and recent chat, else Latin)
    country    20  same country
    category   20  same category
    size       10  1 - |log10(their viewers / your viewers)| / 2: similar audiences pair well
    overlap    10  min(1, 5 x Jaccard of the two rooms' current viewers): shared interest

A host who declined a battle/cohost invitation from you (or whom you declined) is left out for
`cooldown` seconds. Inviting reuses the PK battle invitation (streams.battles).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

WEIGHTS = {"language": 40, "country": 20, "category": 20, "size": 10, "overlap": 10}
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LETTER = re.compile(r"[^\W\d_]")


def language_of(texts: Iterable[str], country: str) -> str:
    """'ne' (Nepali) or 'hi' (Hindi) when at least 30 % of the letters are Devanagari (by country),
    else 'en'. Romanised Nepali reads as 'en': a known limit of a script-only rule."""
    deva = letters = 0
    for t in texts:
        deva += len(_DEVANAGARI.findall(t or ""))
        letters += len(_LETTER.findall(t or ""))
    if letters and deva / letters >= 0.3:
        return "hi" if country == "IN" else "ne"
    return "en"


@dataclass(frozen=True)
class Room:
    stream_id: str
    host_id: str
    host_name: str
    title: str
    country: str
    category: str | None
    language: str
    viewers: frozenset


def rank_one(me: Room, other: Room) -> tuple[float, dict[str, float], list[str]]:
    parts = {
        "language": float(me.language == other.language),
        "country": float(me.country == other.country),
        "category": float(bool(me.category) and me.category == other.category),
        "size": max(0.0, 1.0 - abs(math.log10(max(1, len(other.viewers)) / max(1, len(me.viewers)))) / 2.0),
        "overlap": 0.0,
    }
    union = me.viewers | other.viewers
    jaccard = len(me.viewers & other.viewers) / len(union) if union else 0.0
    parts["overlap"] = min(1.0, 5.0 * jaccard)
    reasons = []
    if parts["language"]:
        reasons.append(f"same language ({other.language})")
    if parts["country"]:
        reasons.append(f"also in {other.country}")
    if parts["category"]:
        reasons.append(f"same category ({other.category})")
    if parts["size"] >= 0.75:
        reasons.append(f"similar audience ({len(other.viewers)} viewers)")
    if jaccard > 0:
        reasons.append(f"{round(100 * jaccard)}% shared viewers")
    return round(sum(parts[k] * w for k, w in WEIGHTS.items()), 1), {k: round(v, 3) for k, v in parts.items()}, reasons


def rank(
    me: Room, others: Iterable[Room], excluded_hosts: set[str] = frozenset(), limit: int = 10
) -> list[dict[str, Any]]:
    out = []
    for o in others:
        if o.stream_id == me.stream_id or o.host_id == me.host_id or o.host_id in excluded_hosts:
            continue
        score, parts, reasons = rank_one(me, o)
        out.append(
            {
                "streamId": o.stream_id,
                "hostId": o.host_id,
                "hostName": o.host_name,
                "title": o.title,
                "country": o.country,
                "category": o.category,
                "language": o.language,
                "viewers": len(o.viewers),
                "score": score,
                "signals": parts,
                "reasons": reasons,
            }
        )
    out.sort(key=lambda c: (-c["score"], -c["viewers"], c["streamId"]))
    return out[:limit]


DECLINED_SQL = (
    "SELECT host_a, host_b FROM battles WHERE status = 'declined' AND created_at >= ? AND (host_a = ?2 OR host_b = ?2)"
)
