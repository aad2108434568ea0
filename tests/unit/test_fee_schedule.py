"""A merchant's platform price: tier, then per-merchant override, as stored."""

from __future__ import annotations

from sqlmodel import Session

from backend.core.ids import new_id
from backend.models import FeeOverride
from backend.services.identity import accounts
from backend.services.payments import merchant_terms
from backend.services.payments.fees import STRIPE_DEFAULT, compute_fees


def test_tiers_and_overrides(db: Session):
    merchant = accounts.create_merchant(
        db, email="fees@shop.test", password="a long passphrase 1"
    ).merchant
    db.commit()
    assert merchant_terms.terms(db, merchant.id, fresh=True).platform_fees.percent_pips == 30_000
    merchant.fee_tier_id = "enterprise"
    db.commit()
    assert merchant_terms.terms(db, merchant.id, fresh=True).platform_fees.percent_pips == 5_000
    db.add(
        FeeOverride(
            id=new_id("fo"), merchant_id=merchant.id, fixed_fee=25, fixed_fee_currency="USD"
        )
    )
    db.commit()
    schedule = merchant_terms.terms(db, merchant.id, fresh=True).platform_fees
    # The override's fixed fee joins the tier's percentage; other fields fall back to the tier.
    assert (schedule.percent_pips, schedule.fixed_fees) == (5_000, {"USD": 25})
    fees = compute_fees(10_000, "USD", schedule, STRIPE_DEFAULT)
    assert (fees.platform_fee, fees.gateway_fee, fees.net) == (75, 320, 9_605)
    # A fixed fee in another currency does not apply to EUR payments.
    assert compute_fees(10_000, "EUR", schedule, STRIPE_DEFAULT).platform_fee == 50
