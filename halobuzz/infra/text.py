"""Cleaning user text: stored as given, minus characters that only cause trouble.

We never HTML-escape on the way in (that would corrupt data and double-escape
later); every renderer escapes on the way out. We do drop C0/C1 control
characters (except newline and tab where multi-line text is allowed), bidi
overrides that can spoof what a reader sees, and NULs.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL_SINGLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_MULTI = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def clean(text: str, *, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", text)
    text = (_CONTROL_MULTI if multiline else _CONTROL_SINGLE).sub("", text)
    return text.strip()


def refuse_controls(text: str, field: str, *, line_breaks: bool = False) -> str:
    """Return `text` unchanged, or raise 422 naming `field` if it holds a control character or a
    bidi override (titles and DMs are refused like usernames, not silently changed)."""
    from ..errors import Invalid

    found = (_CONTROL_MULTI if line_breaks else _CONTROL_SINGLE).search(text.replace("\r\n", "\n"))
    if found:
        raise Invalid(f"{field} must not contain control characters (found U+{ord(found.group()):04X})", field=field)
    return text
