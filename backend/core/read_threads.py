"""Read-only database work: a few threads of a worker at a time, served in arrival order.

A worker hands blocking calls to AnyIO's thread pool, which runs up to 40 at once. Threads that
run Python take turns at the GIL, and CPython does not hand it over in arrival order: with dozens
of reads in flight, some wait behind many others. Measured on the 2-core machine (GET
/api/health at 32 clients, SQLite, bench/payments_api.py): p95 382-454 ms and p99 743-837 ms
with the whole pool at work, p95 88-117 ms and p99 204-309 ms with 6 places (see
docs/performance.md).

So reads (health checks, getting payments and webhook endpoints, logos) wait for one of
API_READ_THREADS places on an AnyIO CapacityLimiter, whose waiters are served first come, first
served, and wait in the event loop rather than on a thread. Only reads: they never wait for a
row lock (PostgreSQL's readers do not block, nor do SQLite's in WAL mode), so a few slow writes
cannot take every place. Writes and calls to providers keep the whole pool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from backend.core.config import get_settings

P = ParamSpec("P")
T = TypeVar("T")


@functools.lru_cache
def _limiter() -> anyio.CapacityLimiter:
    """This process's places. An AnyIO limiter binds to no event loop: one serves them all."""
    return anyio.CapacityLimiter(get_settings().api_read_threads)


async def run_read(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(*args, **kwargs), a read-only call, on a thread once one of the places is free."""
    call = functools.partial(fn, *args, **kwargs)
    return await anyio.to_thread.run_sync(call, limiter=_limiter())
