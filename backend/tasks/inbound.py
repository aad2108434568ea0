"""Background processing of inbound webhook events (see services.webhooks.inbound).

process_events runs for the events one commit of the endpoint stored (one event when requests
come one at a time, a burst's worth under load). What it changes writes outbox events, so it
then asks the outbound side to dispatch them now rather than at its next tick. The sweep is the
safety net: every ~10 s it re-enqueues failed events whose retry time has come and pending ones
nobody took (a lost task, a worker killed while holding the lease).

Why a periodic task that schedules sweeps: Huey's crontab has a one-minute resolution. Once a
minute `schedule_sweeps` puts six sweeps on Huey's schedule, 10 s apart. Each is a short task, no
worker thread sits in a sleep loop, and nothing needs watching: a lost or doubled sweep costs
nothing (sweeps and claims are idempotent) and the next minute schedules six more. (Outbound
keeps a 5 s self-rescheduling tick with a watchdog; a 10 s cadence fits this simpler form.)

Tasks return None so that Huey stores no results.
"""

from __future__ import annotations

from huey import crontab

from backend.core.jobs import huey
from backend.models.enums import InboundEventStatus
from backend.services.webhooks.inbound import queue
from backend.tasks import checkout, outbound

SWEEP_EVERY_SECONDS = 10
SWEEP_CHUNK = 50  # events per task the sweep enqueues, so several workers share a backlog


@huey.task()
def process_events(event_pks: list[str]) -> None:
    statuses = [queue.process(event_pk) for event_pk in event_pks]
    if InboundEventStatus.PROCESSED in statuses:
        outbound.enqueue_dispatch()
        checkout.settle_sessions()  # a payment finished off the page completes its session


@huey.task()
def sweep() -> None:
    due = queue.dispatch_due()
    for start in range(0, len(due), SWEEP_CHUNK):
        process_events(due[start : start + SWEEP_CHUNK])


@huey.periodic_task(crontab(minute="*"))
def schedule_sweeps() -> None:
    for offset in range(0, 60, SWEEP_EVERY_SECONDS):
        sweep.schedule(delay=offset)
