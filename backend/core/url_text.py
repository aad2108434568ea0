"""The characters a URL we store may hold: one rule for webhook endpoints and checkout redirects.

Whitespace, control and format characters (NUL, tabs, line breaks, zero-width and no-break
spaces) are refused, never trimmed: a URL that differs from what the caller sent is a URL they
did not ask for. Characters that must be percent-encoded and a stray `%` are refused too.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from backend.core.errors import ValidationFailed

# A URL the customer is sent back to: successUrl, cancelUrl, a portal's or a payment's returnUrl.
MAX_REDIRECT_URL_LENGTH = 2000
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


def redirect_url(value: object, param: str, *, required: bool) -> str | None:
    """A URL the customer is sent back to (successUrl, cancelUrl, a portal's or a payment's
    returnUrl): absolute http(s), at most 2000 characters, nothing that must be
    percent-encoded."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_REDIRECT_URL_LENGTH:
        raise ValidationFailed(f"{param} must be an http(s) URL", param=param)
    problem = character_problem(value, param)
    if problem:
        raise ValidationFailed(problem, param=param)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"{param} must be an absolute http(s) URL", param=param)
    return value
