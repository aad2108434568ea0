"""The characters a URL we store may hold: one rule for webhook endpoints and checkout redirects.

Whitespace, control and format characters (NUL, tabs, line breaks, zero-width and no-break
spaces) are refused, never trimmed: a URL that differs from what the caller sent is a URL they
did not ask for. Characters that must be percent-encoded and a stray `%` are refused too.
"""

from __future__ import annotations

import re
import unicodedata

_MUST_BE_ENCODED = frozenset('<>"{}|\\^`')
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def character_problem(url: str, param: str) -> str | None:
    """Why url's characters are refused, as a message naming param, or None."""
    for position, char in enumerate(url, start=1):
        if unicodedata.category(char)[0] in "CZ":  # controls, NUL, format marks, spaces
            return (
                f"{param} must not contain whitespace or control characters ({char!r} at "
                f"position {position})"
            )
        if char in _MUST_BE_ENCODED:
            return f"{param} must not contain {char!r} (position {position}): percent-encode it"
    if _STRAY_PERCENT.search(url):
        return f"{param} has a % that does not start an escape such as %20"
    return None
