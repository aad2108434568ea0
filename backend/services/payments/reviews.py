"""Closing the review of a payment the risk rules flagged: approved, or marked fraudulent.

A payment scored at or above the merchant's review score goes through, flagged for review.
Someone who may decide on payments (Permission.REVIEW_PAYMENTS) looks at its signals and closes
the review once, either way, with who and when kept on the payment and in the audit log.
Marking it fraudulent changes no money by itself: the portal then offers the refund and the
blocklist, each with its own checks (refund limits, step-up).
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session

from backend.core.errors import Conflict, ValidationFailed
from backend.models import Payment, utcnow
from backend.models.enums import RiskDecision
from backend.services import audit
from backend.services.context import Actor, Scope
from backend.services.payments import orders
from backend.services.representations import review_status


class ReviewOutcome(StrEnum):
    APPROVED = "approved"
    FRAUDULENT = "fraudulent"


# Written out whole, so the audit actions can be found (and labelled: backend/services/labels.py).
_AUDIT_ACTIONS = {
    ReviewOutcome.APPROVED: "payment.review_approved",
    ReviewOutcome.FRAUDULENT: "payment.review_fraudulent",
}


def is_open(payment: Payment) -> bool:
    return review_status(payment) == "open"


def close(db: Session, scope: Scope, payment_id: str, outcome: str, *, actor: Actor) -> Payment:
    if outcome not in tuple(ReviewOutcome):
        raise ValidationFailed("A review ends approved or fraudulent", param="outcome")
    payment = orders.get_payment(db, scope, payment_id, lock=True)
    if payment.risk_decision != RiskDecision.REVIEW:
        raise Conflict(f"Payment {payment.id} was not flagged for review", code="not_in_review")
    if payment.reviewed_at is not None:
        raise Conflict(
            f"The review of payment {payment.id} was already closed: {payment.review_outcome}",
            code="review_closed",
        )
    now = utcnow()
    payment.reviewed_at, payment.reviewed_by, payment.review_outcome = now, actor.id, outcome
    payment.updated_at = now
    db.add(payment)
    audit.record_by(
        db,
        actor,
        _AUDIT_ACTIONS[ReviewOutcome(outcome)],
        payment,
        "payment",
        {"risk_score": payment.risk_score, "reasons": list(payment.risk_reasons or [])},
    )
    return payment
