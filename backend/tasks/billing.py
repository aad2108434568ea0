"""The billing engine's job: every minute, invoices whose payment the customer completed are
paid, then the subscriptions on the real clock that fell due (renewals, trial ends, retries,
resumptions, ends) run. Safe on several workers at once: each
subscription is locked while it runs (SKIP LOCKED) and a period is invoiced once."""

from __future__ import annotations

from huey import crontab

from backend.core.jobs import huey
from backend.services.billing import engine


@huey.periodic_task(crontab(minute="*"))
def run_billing() -> None:
    engine.settle_completed_payments()
    engine.run_due()
