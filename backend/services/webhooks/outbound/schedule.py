"""When a failed delivery is tried again, and when its endpoint is given up on.

The nominal wait after the n-th failed attempt is BACKOFF[n-1] (1 min, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h, 10 h, then 12 h each time), shortened by a random 0-50 % so the deliveries of an
endpoint that went down together do not come back together. "Full" jitter (0-100 %) could retry
a few seconds after a 10-hour step, which is no back-off at all. No attempt is scheduled past
created + RETRY_WINDOW (3 days): the last one is moved to exactly that time, and when it fails
the delivery fails. Nominally that is 12 attempts (0, 1 min, 6 min, 36 min, 2 h 36, 7 h 36,
17 h 36, 27 h 36, 37 h 36, 49 h 36, 61 h 36, 72 h); jitter makes it 12 to 18. An endpoint
failing continuously for DISABLE_AFTER is disabled.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=12),  # and every later one
)
JITTER = 0.5  # each wait is shortened by up to this fraction
RETRY_WINDOW = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)

# The jitter's source; tests replace it to get the nominal schedule exactly.
jitter_source: Callable[[], float] = random.random


def next_attempt_at(created_at: datetime, failures: int, now: datetime) -> datetime | None:
    """When to try again after `failures` failed attempts; None once the window is over."""
    deadline = created_at + RETRY_WINDOW
    if now >= deadline:
        return None
    nominal = BACKOFF[min(failures, len(BACKOFF)) - 1]
    return min(now + nominal * (1 - JITTER * jitter_source()), deadline)


def planned_attempts(created_at: datetime, made: int, next_at: datetime) -> int:
    """How many attempts a delivery gets in all if the next one, at next_at, and each later one
    fail on the nominal schedule (jitter shortens waits, so it can fit in a few more)."""
    deadline = created_at + RETRY_WINDOW
    attempts, at = made + 1, next_at
    while at < deadline:
        at = min(at + BACKOFF[min(attempts, len(BACKOFF)) - 1], deadline)
        attempts += 1
    return attempts
