"""Known devices: a browser where an account has signed in before.

A successful sign-in leaves a signed `pp_device` cookie (HttpOnly) naming a random device id
bound to the account. At the next sign-in from that browser, failed attempts count against the
device rather than the network address, so a stranger guessing the owner's password from
anywhere else cannot shut the owner out of their own browser.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from backend.core.security import random_token, token_digest

COOKIE_NAME = "pp_device"
REMEMBER_FOR = timedelta(days=365)
_PURPOSE = "known-device"


def _signature(user_id: str, device_id: str) -> str:
    return token_digest(f"{user_id}:{device_id}", purpose=_PURPOSE)[:32]


def device_cookie(user_id: str) -> str:
    """A new cookie value marking this browser as known for user_id."""
    device_id = random_token(24)
    return f"{device_id}.{_signature(user_id, device_id)}"


def known_device(cookie: object, user_id: str) -> str | None:
    """The device id when the cookie was issued to user_id by us, else None."""
    if not isinstance(cookie, str) or len(cookie) > 100 or cookie.count(".") != 1:
        return None
    device_id, signature = cookie.split(".")
    if not device_id.isalnum() or not hmac.compare_digest(
        signature.encode(), _signature(user_id, device_id).encode()
    ):
        return None
    return device_id
