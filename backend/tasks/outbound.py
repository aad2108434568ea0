"""Outbound webhook jobs: fan out the outbox, deliver, and sweep whatever has come due.

Cadence. Huey's periodic tasks follow a crontab, so they run at most once a minute, and
webhooks should leave within seconds. So:

- The fast path: after a transaction that emitted events commits, its caller calls
  `enqueue_dispatch()`; the `dispatch_outbox` task fans the events out and enqueues one
  `deliver` task per new delivery at once.
- `tick` re-schedules itself every TICK_SECONDS with huey's `schedule(delay=...)`. Each tick
  dispatches what the fast path missed (events written by code that enqueued nothing, an
  enqueue lost in a crash) and enqueues the retries that have come due and the deliveries whose
  lease expired with a dead worker.
- `watchdog`, a crontab task every minute, starts a tick chain when no tick has run for
  STALE_AFTER (the first start, a chain broken by a crash). Each chain carries an id and the
  watchdog records the id of the chain it starts; an older chain stops at its next tick, so a
  late chain and its replacement never both keep running.

A minute crontab alone would leave a retry or a missed event waiting up to a minute more; a
loop inside one periodic task would hold a worker thread for good. A self-scheduling task
holds a thread for a few milliseconds every few seconds.

Every task is safe to run twice: dispatch takes events FOR UPDATE SKIP LOCKED and marks them;
deliver claims a lease, so a duplicate finds nothing to claim. Tasks return nothing, so no
result piles up in Huey's storage.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from huey import crontab

from backend.core.db import session_scope
from backend.core.jobs import huey
from backend.services.webhooks.outbound import delivery as webhook_delivery
from backend.services.webhooks.outbound import fanout as webhook_fanout

log = logging.getLogger(__name__)

TICK_SECONDS = 5
STALE_AFTER = 60  # seconds without a tick before the watchdog starts a new chain
DISPATCH_BATCH = 500
SWEEP_BATCH = 500
_CHAIN_KEY = "outbound:tick-chain"
_LAST_TICK_KEY = "outbound:last-tick"


@huey.task()
def deliver(delivery_id: str) -> None:
    webhook_delivery.deliver(delivery_id)


@huey.task()
def dispatch_outbox() -> None:
    _dispatch()


@huey.task()
def sweep() -> None:
    with session_scope(readonly=True) as db:
        due = webhook_delivery.due_deliveries(db, limit=SWEEP_BATCH)
    enqueue_deliveries(due)


@huey.task()
def tick(chain: str) -> None:
    if huey.get(_CHAIN_KEY, peek=True) != chain:
        return  # a newer chain has replaced this one
    huey.put(_LAST_TICK_KEY, time.time())
    try:
        _dispatch()
        sweep.call_local()
    finally:
        tick.schedule((chain,), delay=TICK_SECONDS)


@huey.periodic_task(crontab(minute="*"))
def watchdog() -> None:
    last = huey.get(_LAST_TICK_KEY, peek=True)
    if last is not None and time.time() - last < STALE_AFTER:
        return
    start_ticking()


def start_ticking() -> str:
    """Start a new tick chain (superseding any other); its id."""
    chain = uuid.uuid4().hex
    huey.put(_CHAIN_KEY, chain)
    tick(chain)
    return chain


def enqueue_dispatch() -> None:
    """Call after a transaction that emitted events has committed. Best effort: if the queue
    is unreachable the next tick dispatches the events anyway, so the caller never fails."""
    try:
        dispatch_outbox()
    except Exception:
        log.exception("could not enqueue the outbox dispatch; the next tick will do it")


def enqueue_sweep() -> None:
    """Best effort, like enqueue_dispatch (after a bulk redelivery, say)."""
    try:
        sweep()
    except Exception:
        log.exception("could not enqueue the sweep; the next tick will do it")


def enqueue_deliveries(delivery_ids: Iterable[str]) -> None:
    """Best effort, like enqueue_dispatch: the sweep finds any delivery left behind."""
    try:
        for delivery_id in delivery_ids:
            deliver(delivery_id)
    except Exception:
        log.exception("could not enqueue webhook deliveries; the sweep will find them")


def _dispatch() -> None:
    """Drain the outbox one batch (one transaction) at a time."""
    while True:
        with session_scope() as db:
            done = webhook_fanout.dispatch_outbox(db, DISPATCH_BATCH)
        enqueue_deliveries(done.deliveries)  # after the commit, so a worker can see the rows
        if done.events < DISPATCH_BATCH:
            return
