"""The legal moves of payments, refunds and disputes. Anything else is refused, never applied."""

from __future__ import annotations

from collections.abc import Mapping

from backend.core.errors import Conflict
from backend.models.enums import DisputeStatus, PaymentStatus, PayoutStatus, RefundStatus
from backend.services import labels

P = PaymentStatus
PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    P.REQUIRES_PAYMENT_METHOD: frozenset(
        {P.REQUIRES_ACTION, P.PROCESSING, P.AUTHORIZED, P.SUCCEEDED, P.FAILED, P.VOIDED}
    ),
    # A bank debit waits days for the customer's bank: it settles or fails, nothing else.
    P.PROCESSING: frozenset({P.SUCCEEDED, P.FAILED}),
    P.REQUIRES_ACTION: frozenset({P.AUTHORIZED, P.SUCCEEDED, P.FAILED, P.VOIDED}),
    P.AUTHORIZED: frozenset({P.SUCCEEDED, P.VOIDED, P.FAILED}),
    P.SUCCEEDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED}),
    # Back to SUCCEEDED or PARTIALLY_REFUNDED: a booked refund failed at the gateway and the
    # money stayed with the merchant (Stripe's refund.updated -> failed).
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED, P.SUCCEEDED}),
    P.REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.SUCCEEDED}),
    # A dispute that is won hands the payment back to where its refunds left it; a lost one
    # stays disputed.
    P.DISPUTED: frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.VOIDED: frozenset(),
    # The gateway has the last word: a charge we counted as failed may have gone through after
    # all (its answer was lost on the way back, or the customer retried on the same
    # PaymentIntent), and its webhook then brings the payment to what really happened.
    P.FAILED: frozenset({P.AUTHORIZED, P.SUCCEEDED}),
}

R = RefundStatus
REFUND_TRANSITIONS: Mapping[RefundStatus, frozenset[RefundStatus]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED, R.CANCELED}),
    # A refund can still fail after it succeeded (the card was closed and the bank sent it back).
    R.SUCCEEDED: frozenset({R.FAILED}),
    R.FAILED: frozenset(),
    R.CANCELED: frozenset(),
}

D = DisputeStatus
DISPUTE_TRANSITIONS: Mapping[DisputeStatus, frozenset[DisputeStatus]] = {
    D.NEEDS_RESPONSE: frozenset({D.UNDER_REVIEW, D.WON, D.LOST}),
    D.UNDER_REVIEW: frozenset({D.WON, D.LOST}),
    D.WON: frozenset(),
    D.LOST: frozenset(),
}

PO = PayoutStatus
PAYOUT_TRANSITIONS: Mapping[PayoutStatus, frozenset[PayoutStatus]] = {
    PO.PENDING: frozenset({PO.IN_TRANSIT, PO.PAID, PO.FAILED, PO.CANCELED}),
    PO.IN_TRANSIT: frozenset({PO.PAID, PO.FAILED}),
    # A paid payout can still come back: the bank returns the transfer (an ACH return).
    PO.PAID: frozenset({PO.FAILED}),
    PO.FAILED: frozenset(),
    PO.CANCELED: frozenset(),
}

# A succeeded bank debit can still come back: the customer's bank returns it (ACH return R01,
# R02...). Only that move leaves SUCCEEDED for FAILED, through booking.bank_return; a card
# payment that succeeded never fails afterwards (its way back is a refund or a dispute).
BANK_RETURNABLE = frozenset({P.SUCCEEDED})

# Which payment states each operation starts from, with the error a caller sees otherwise.
CAPTURABLE = frozenset({P.AUTHORIZED})
VOIDABLE = frozenset({P.AUTHORIZED, P.REQUIRES_ACTION, P.REQUIRES_PAYMENT_METHOD})
REFUNDABLE = frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED})

# The money was taken: every state a payment can reach after its capture. (A tuple: SQL queries
# bind its members in this order.)
CAPTURED: tuple[PaymentStatus, ...] = (P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED)


def can_move(current: str, target: str, table: Mapping) -> bool:  # type: ignore[type-arg]
    return target in table.get(current, frozenset())


def ensure_payment_move(current: str, target: str) -> None:
    if not can_move(current, target, PAYMENT_TRANSITIONS):
        raise Conflict(
            f"A payment that is {labels.status(current).lower()} cannot become "
            f"{labels.status(target).lower()}",
            code="payment_invalid_state",
        )


def ensure_bank_return(current: str) -> None:
    if current not in BANK_RETURNABLE:
        raise Conflict(
            f"A bank payment that is {labels.status(current).lower()} cannot be returned: "
            "only a succeeded one can",
            code="payment_invalid_state",
        )


def ensure_operation(status: str, allowed: frozenset[PaymentStatus], action: str) -> None:
    """Refuse an operation on a payment in the wrong state, saying what state it is in."""
    if status not in allowed:
        states = ", ".join(sorted(labels.status(s).lower() for s in allowed))
        raise Conflict(
            f"Cannot {action} a payment that is {labels.status(status).lower()}: "
            f"only a payment that is {states} can be {_PAST[action]}",
            code="payment_invalid_state",
        )


_PAST = {"capture": "captured", "void": "voided", "refund": "refunded"}


def ensure_refund_move(current: str, target: str) -> None:
    if not can_move(current, target, REFUND_TRANSITIONS):
        raise Conflict(
            f"A refund that is {current} cannot become {target}", code="refund_invalid_state"
        )


def ensure_dispute_move(current: str, target: str) -> None:
    if not can_move(current, target, DISPUTE_TRANSITIONS):
        raise Conflict(
            f"A dispute that is {labels.status(current).lower()} cannot become "
            f"{labels.status(target).lower()}",
            code="dispute_invalid_state",
        )


def ensure_payout_move(current: str, target: str) -> None:
    if not can_move(current, target, PAYOUT_TRANSITIONS):
        raise Conflict(
            f"A payout that is {labels.status(current).lower()} cannot become "
            f"{labels.status(target).lower()}",
            code="payout_invalid_state",
        )
