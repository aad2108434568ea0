"""Bank debits (ACH) whose processor sends no events (the sandbox): once a minute the settle job
asks the processor about each debit still watched and books what the bank decided
(services.payments.bank_debits.poll_due). Stripe's debits are settled by its webhooks."""

from __future__ import annotations

from huey import crontab

from backend.core.jobs import huey
from backend.services.payments import bank_debits


@huey.periodic_task(crontab(minute="*"))
def settle_bank_debits_every_minute() -> None:
    bank_debits.poll_due()
