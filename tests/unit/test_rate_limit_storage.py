"""The per-process rate-limit store: limits still apply, without a thread start per request."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from backend.api.deps import _ProcessStorage


def _timer_starts(storage_type: type[MemoryStorage], monkeypatch: pytest.MonkeyPatch) -> int:
    started: list[threading.Timer] = []

    class CountingTimer(threading.Timer):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(threading, "Timer", CountingTimer)
    limiter = SlidingWindowCounterRateLimiter(storage_type())
    item = parse("1000000/second")
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # a steady trickle of requests, 2 ms apart
        assert limiter.hit(item, "api", "key")
        time.sleep(0.002)
    return len(started)


def test_hits_start_at_most_one_clean_up_timer_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # limits' own store starts a new 10 ms timer thread whenever the last one has ended; if a
    # release of limits stops doing so, the control below fails and _ProcessStorage can go.
    assert _timer_starts(MemoryStorage, monkeypatch) > 10
    assert _timer_starts(_ProcessStorage, monkeypatch) <= 2


def test_the_limit_still_applies_and_frees_up_after_its_window() -> None:
    limiter = SlidingWindowCounterRateLimiter(_ProcessStorage())
    item = parse("5/second")
    assert all(limiter.hit(item, "api", "key") for _ in range(5))
    assert not limiter.hit(item, "api", "key")
    assert limiter.hit(item, "api", "other key")
    time.sleep(2.1)  # the sliding window counts the previous second's hits too
    assert limiter.hit(item, "api", "key")
