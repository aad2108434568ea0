"""Rate limits for people (code sends, code attempts, declined card payments): the `limits`
library, shared through Redis when REDIS_URL is set (several workers), per process otherwise.

Counters live outside the database on purpose: a wrong code raises, the unit of work rolls
back, and the failure must still count.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from backend.core.config import get_settings
from backend.core.errors import RateLimited


@lru_cache
def _limiter(redis_url: str | None) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))


def _current() -> MovingWindowRateLimiter:
    return _limiter(get_settings().redis_url)


def _retry_after(item: RateLimitItem, keys: tuple[str, ...]) -> int:
    reset = _current().get_window_stats(item, *keys).reset_time
    return max(1, math.ceil(reset - time.time()))


def ensure_room(limit: str, *keys: str, message: str) -> None:
    """RateLimited (with the wait) when `limit` is used up for keys; consumes nothing."""
    item = parse(limit)
    if not _current().test(item, *keys):
        wait = _retry_after(item, keys)
        raise RateLimited(f"{message} Try again in {_wait_text(wait)}.", retry_after=wait)


def hit(limit: str, *keys: str, message: str) -> None:
    """Count one use; RateLimited when the limit was already reached."""
    item = parse(limit)
    if not _current().hit(item, *keys):
        wait = _retry_after(item, keys)
        raise RateLimited(f"{message} Try again in {_wait_text(wait)}.", retry_after=wait)


def wait_seconds(limit: str, *keys: str) -> int:
    """0 while `limit` has room for keys, else the seconds until it has; consumes nothing.

    For callers that word the refusal themselves (the checkout, in the customer's language)."""
    item = parse(limit)
    return 0 if _current().test(item, *keys) else _retry_after(item, keys)


def count(limit: str, *keys: str) -> None:
    """Count one use without raising (a failed attempt, checked by ensure_room next time)."""
    _current().hit(parse(limit), *keys)


def clear(limit: str, *keys: str) -> None:
    _current().clear(parse(limit), *keys)


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
