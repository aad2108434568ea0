"""The daily reconciliation (services.reconciliation): every merchant with something to compare
has its own Stripe accounts' payouts imported, then is reconciled, each as its own task, so one
merchant's unreachable processor or a failure holds back no other merchant. Early in the UTC
morning, when yesterday's balance transactions and payouts are all written at Stripe."""

from __future__ import annotations

import logging

from huey import crontab

from backend.core.jobs import huey
from backend.services.reconciliation import jobs

log = logging.getLogger(__name__)


@huey.task()
def reconcile_merchant(merchant_id: str, livemode: bool) -> None:
    summary = jobs.reconcile(merchant_id, livemode)
    for error in summary.errors:
        log.warning("reconciliation of %s: %s", merchant_id, error)


@huey.periodic_task(crontab(minute="20", hour="4"))
def reconcile_daily() -> None:
    for merchant_id, livemode in jobs.scopes_due():
        reconcile_merchant(merchant_id, livemode)
