"""A merchant's risk thresholds: the scores at which payments are flagged for review or refused.

The rules that score a payment are in backend.services.payments.risk_rules (the scoring itself in
risk), the blocklist in blocklist."""

from __future__ import annotations

from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.models import Merchant, utcnow
from backend.services import audit
from backend.services.context import SYSTEM, Actor


def _merchant(db: Session, merchant_id: str) -> Merchant:
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"No such merchant: {merchant_id!r}", param="merchant")
    return merchant


def set_risk_thresholds(
    db: Session, merchant_id: str, *, review: int, block: int, actor: Actor = SYSTEM
) -> Merchant:
    """Scores at or above `review` are flagged, at or above `block` refused (0-101; 101 = never)."""
    for name, value in (("review", review), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 101:
            raise ValidationFailed(f"The {name} score is a whole number from 0 to 101", param=name)
    if review > block:
        raise ValidationFailed("The review score must not be above the block score", param="review")
    merchant = _merchant(db, merchant_id)
    merchant.risk_review_score, merchant.risk_block_score = review, block
    merchant.updated_at = utcnow()
    db.add(merchant)
    audit.record(
        db,
        action="merchant.risk_thresholds_changed",
        merchant_id=merchant_id,
        actor_type=actor.type,
        actor_id=actor.id,
        ip_address=actor.ip_address,
        object_type="merchant",
        object_id=merchant_id,
        details={"review": review, "block": block},
    )
    return merchant
