"""Background tasks, registered on the Huey instance of backend.core.jobs.

Importing this package registers every task; the worker (`python -m backend worker`) and the
web processes (which enqueue) both import it.
"""

from backend.core import enqueue
from backend.core.jobs import huey
from backend.tasks import (  # noqa: F401  (registers the tasks)
    bank_debits,
    billing,
    checkout,
    inbound,
    notifications,
    outbound,
    payouts,
    reconciliation,
)

# The service layer enqueues through backend.core.enqueue (it must not import the tasks).
enqueue.provide(enqueue.WEBHOOK_DELIVERIES, outbound.enqueue_deliveries)

__all__ = ["huey"]
