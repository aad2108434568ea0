"""Payout jobs: matured funds become available, scheduled payouts are made, the rail's events
are applied and payouts whose sending failed are sent again.

Each job is idempotent (the release books only what matured, the schedule pays once a day per
balance, the rail's cursor and the payout's state make a repeated event a no-op), so a job run
twice, or on two workers, changes nothing more.
"""

from __future__ import annotations

import logging

from huey import crontab

from backend.core.errors import ServiceError
from backend.core.jobs import huey
from backend.services.ledger import release
from backend.services.payouts import creating, scheduled, sync

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*/5"))
def release_matured_funds() -> None:
    release.release_due()


@huey.periodic_task(crontab(minute="7"))
def make_scheduled_payouts() -> None:
    scheduled.create_scheduled()


@huey.periodic_task(crontab(minute="*"))
def sync_payout_rail() -> None:
    """The rail's events first, then the payouts still waiting to be sent."""
    try:
        sync.sync_rail()
    except ServiceError as exc:  # the rail is down: the next minute reads from the same cursor
        log.warning("payout rail sync failed: %s", exc.message)
    creating.retry_unsent()
