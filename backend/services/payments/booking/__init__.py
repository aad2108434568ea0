"""The one booking path: the only place a payment, refund, dispute or payout changes state and
its fees are set, whoever asks (the REST API, the portal, the hosted checkout, the sandbox's
follow-ups, the payout schedule or an inbound processor event).

Each function applies one move inside the caller's transaction: the state machine's check, the
amounts and fees, the order's status, the ledger's journal (backend/services/ledger), the audit
row and the outbox event. The caller has already talked to the processor (or been told by it)
and holds the row locks. Nothing else writes these columns or the ledger
(tests/unit/test_one_booking_path.py), so a rule about money has one home.
"""

from backend.services.payments.booking.bank_returns import bank_return
from backend.services.payments.booking.changes import emit, move_payment, record_change
from backend.services.payments.booking.disputes import (
    EVIDENCE_WINDOW_DAYS,
    close_dispute,
    dispute_under_review,
    open_dispute,
)
from backend.services.payments.booking.payments import (
    authorize,
    capture,
    fail,
    platform_fees,
    process,
    require_action,
    set_fees,
    void,
)
from backend.services.payments.booking.payouts import (
    InsufficientBalance,
    cancel_payout,
    create_payout,
    payout_failed,
    payout_in_transit,
    payout_paid,
    record_processor_payout,
)
from backend.services.payments.booking.refunds import (
    BOOKED_REFUND,
    book_refund,
    confirm_refund,
    new_refund,
    record_unbooked_refund,
    refunds_of,
    reverse_refund,
    settled_status,
)

__all__ = [
    "BOOKED_REFUND",
    "EVIDENCE_WINDOW_DAYS",
    "InsufficientBalance",
    "authorize",
    "bank_return",
    "book_refund",
    "cancel_payout",
    "capture",
    "close_dispute",
    "confirm_refund",
    "create_payout",
    "dispute_under_review",
    "emit",
    "fail",
    "move_payment",
    "new_refund",
    "open_dispute",
    "payout_failed",
    "payout_in_transit",
    "payout_paid",
    "platform_fees",
    "process",
    "record_change",
    "record_processor_payout",
    "record_unbooked_refund",
    "refunds_of",
    "require_action",
    "reverse_refund",
    "set_fees",
    "settled_status",
    "void",
]
