"""run_read: a worker's read-only calls, a few threads at a time, in arrival order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from backend.core import read_threads
from backend.core.config import get_settings
from backend.core.read_threads import run_read

WAIT = 10  # seconds: only reached when the behaviour under test is broken
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a thread of its own: the browser tests' Playwright may hold this
    thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=WAIT)


@pytest.fixture
def two_places(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("API_READ_THREADS", "2")
    get_settings.cache_clear()
    read_threads._limiter.cache_clear()
    yield
    get_settings.cache_clear()
    read_threads._limiter.cache_clear()


def test_at_most_api_read_threads_at_once_served_in_arrival_order(two_places: None) -> None:
    lock = threading.Lock()
    starts: list[int] = []
    running = most = 0
    pair = threading.Barrier(2, timeout=WAIT)  # both places must be taken to go on

    def read(n: int) -> int:
        nonlocal running, most
        with lock:
            starts.append(n)
            running += 1
            most = max(most, running)
        pair.wait()
        with lock:
            running -= 1
        return n

    async def main() -> list[int]:
        return list(await asyncio.gather(*(run_read(read, n) for n in range(6))))

    assert run(main()) == list(range(6))
    assert most == 2
    assert [set(starts[i : i + 2]) for i in (0, 2, 4)] == [{0, 1}, {2, 3}, {4, 5}]


def test_one_limiter_serves_one_event_loop_after_another(two_places: None) -> None:
    # Four reads for two places: each round has reads waiting for a place, which a limiter
    # bound to the first event loop could not serve in the second.
    pair = threading.Barrier(2, timeout=WAIT)

    def read(n: int) -> int:
        pair.wait()
        return n

    async def main() -> list[int]:
        return list(await asyncio.gather(*(run_read(read, n) for n in range(4))))

    for _ in range(2):
        assert run(main()) == [0, 1, 2, 3]


def test_an_error_reaches_the_caller_and_frees_the_place(two_places: None) -> None:
    def fail() -> None:
        raise LookupError("no such payment")

    async def main() -> list[str]:
        for _ in range(3):
            with pytest.raises(LookupError):
                await run_read(fail)
        return [await run_read(lambda: "next") for _ in range(3)]

    assert run(main()) == ["next"] * 3
