"""Settling checkout sessions nobody is looking at (services.checkout.sessions.sessions_to_settle).

Once a minute, and right after inbound Stripe events change payments, overdue sessions expire
(checkout.session.expired) and sessions whose order was paid off the page complete
(checkout.session.completed, receipt e-mail). Each session is its own transaction, so one that
cannot be settled (its gateway is down while voiding a 3-D Secure hold) does not hold back the
others; it is tried again at the next sweep.
"""

from __future__ import annotations

import logging

from huey import crontab

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.core.jobs import huey
from backend.services.checkout import paying, session_state

log = logging.getLogger(__name__)


def settle_due() -> int:
    """Settle what is due now; how many sessions changed."""
    with session_scope(readonly=True) as db:
        due = session_state.sessions_to_settle(db)
    settled = 0
    for session_id in due:
        try:
            with session_scope() as db:
                receipt = session_state.settle(db, session_id)
        except ServiceError as exc:
            log.warning("checkout session %s not settled: %s", session_id, exc.message)
            continue
        settled += 1
        paying.send_receipt(receipt)
    return settled


@huey.task()
def settle_sessions() -> None:
    settle_due()


@huey.periodic_task(crontab(minute="*"))
def settle_sessions_every_minute() -> None:
    settle_due()
