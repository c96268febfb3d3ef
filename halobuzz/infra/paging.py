"""The one cursor-paging shape every list answers with: {items, cursor}.

Queries fetch `limit` rows after the cursor (an opaque id); a full page means there may
be more, so its last item's id is the next cursor; a short page ends the list.
"""

from __future__ import annotations

from typing import Any


def page(items: list[dict[str, Any]], limit: int, key: str = "id") -> dict[str, Any]:
    return {"items": items, "cursor": items[-1][key] if items and len(items) == limit else None}
