"""What the sandbox does after a payment, as a real processor would, a moment later.

The test card 4000 0000 0000 0259 succeeds and is then disputed by the customer's bank: the
dispute opens in its own transaction after the charge has been answered.
"""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.services import context
from backend.services.payments import booking, orders

log = logging.getLogger(__name__)


def dispute_later(scope: context.Scope, payment_id: str) -> None:
    try:
        with session_scope() as db:
            payment = orders.get_payment(db, scope, payment_id, lock=True)
            booking.open_dispute(
                db, payment, reason="fraudulent", gateway_dispute_id=f"sbx_dp_{payment.id}"
            )
    except ServiceError as exc:  # refunded or voided in the meantime: nothing to dispute
        log.info("sandbox dispute for %s skipped: %s", payment_id, exc.message)
