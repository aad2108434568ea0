"""A merchant's terms that every payment reads: platform fee schedule, risk thresholds and
how long captured funds stay pending.

Read on every charge, changed a few times a year, so each worker keeps them for
CACHE_TTL_SECONDS (backend/services/ttl_cache.py): a new fee override or risk threshold applies
to payments created at most that long (2 s by default) after the change in every worker, and at
once in the process that committed it (forget_on_commit below). A capture computes its fee
afresh (terms(..., fresh=True)); a refund reads the fee stored on the payment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from backend.core.errors import NotFound
from backend.core.ttl_cache import ALL, TTLMemo, forget_on_commit
from backend.models import FeeOverride, FeeTier, Merchant
from backend.services.payments.fees import FeeSchedule, schedule_of


@dataclass(frozen=True)
class MerchantTerms:
    merchant_id: str
    status: str
    risk_review_score: int
    risk_block_score: int
    refund_returns_platform_fee: bool
    platform_fees: FeeSchedule
    payout_delay_days: int


_TERMS: TTLMemo[MerchantTerms] = TTLMemo("merchant_terms")


def _load(db: Session, merchant_id: str) -> MerchantTerms:
    row = db.exec(
        select(Merchant, FeeTier, FeeOverride)
        .join(FeeTier, FeeTier.id == Merchant.fee_tier_id)
        .join(FeeOverride, FeeOverride.merchant_id == Merchant.id, isouter=True)
        .where(Merchant.id == merchant_id)
    ).first()
    if row is None:
        raise NotFound("No such merchant")
    merchant, tier, override = row
    return MerchantTerms(
        merchant_id=merchant.id,
        status=merchant.status,
        risk_review_score=merchant.risk_review_score,
        risk_block_score=merchant.risk_block_score,
        refund_returns_platform_fee=merchant.refund_returns_platform_fee,
        platform_fees=schedule_of(tier, override),
        payout_delay_days=merchant.payout_delay_days,
    )


def terms(db: Session, merchant_id: str, *, fresh: bool = False) -> MerchantTerms:
    """The merchant's current terms (at most CACHE_TTL_SECONDS old, or read now when `fresh`,
    as captures and refunds do); NotFound if none."""
    if fresh:
        return _load(db, merchant_id)
    return _TERMS.get(merchant_id, lambda: _load(db, merchant_id))


def forget(merchant_id: str) -> None:
    """Read this merchant's terms afresh next time (call after changing them)."""
    _TERMS.forget(merchant_id)


forget_on_commit(Merchant, _TERMS, lambda row: row.id)  # type: ignore[attr-defined]
forget_on_commit(FeeOverride, _TERMS, lambda row: row.merchant_id)  # type: ignore[attr-defined]
forget_on_commit(FeeTier, _TERMS, lambda _row: ALL)
