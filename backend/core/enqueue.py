"""Enqueue a background job by name, after a commit, from code that must not import
backend.tasks (the services: the tasks import them). Importing backend.tasks provides each
enqueuer; the web processes and the worker import it (backend.api does).

Best effort, as the enqueuers themselves are: what must not be lost is a row in the database,
and the periodic sweeps find any row whose job was never enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

WEBHOOK_DELIVERIES = "webhook_deliveries"  # (delivery ids: Iterable[str])

_ENQUEUERS: dict[str, Callable[[Iterable[str]], None]] = {}


def provide(name: str, enqueuer: Callable[[Iterable[str]], None]) -> None:
    _ENQUEUERS[name] = enqueuer


def enqueue(name: str, ids: Iterable[str]) -> None:
    enqueuer = _ENQUEUERS.get(name)
    if enqueuer is None:
        log.warning("no enqueuer for %s (backend.tasks not imported); the sweep will find it", name)
        return
    enqueuer(list(ids))
