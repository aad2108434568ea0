"""The whole job for one merchant and mode (import the own Stripe accounts' payouts, then
reconcile), and which merchants the daily job visits. Each step is its own unit of work, so a
slow processor holds no transaction open across the others."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from backend.core.db import session_scope
from backend.models import BalanceTransaction, Payout, utcnow
from backend.models.enums import PayoutStatus
from backend.services.context import SYSTEM, Actor
from backend.services.payments import gateway_configs
from backend.services.reconciliation import runs, stripe_import
from backend.services.reconciliation.matching import OUR_TYPES


def reconcile(
    merchant_id: str, livemode: bool, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> runs.RunSummary:
    with session_scope() as db:
        imported = stripe_import.import_merchant(db, merchant_id, livemode, actor=actor)
    with session_scope() as db:
        summary = runs.run(db, merchant_id, livemode, now or utcnow(), actor=actor)
    summary.errors[:0] = [f"Payout import: {r.error}" for r in imported if r.error]
    return summary


def scopes_due(now: datetime | None = None) -> list[tuple[str, bool]]:
    """Every (merchant, mode) with something to compare in the run's window: Stripe-processed
    movements, an own Stripe account, or payouts on their way or paid."""
    since = (now or utcnow()) - runs.LOOKBACK
    with session_scope(readonly=True) as db:
        found = set(
            db.exec(
                select(BalanceTransaction.merchant_id, BalanceTransaction.livemode)
                .where(
                    col(BalanceTransaction.type).in_(list(OUR_TYPES)),
                    BalanceTransaction.created_at >= since,
                )
                .distinct()
            ).all()
        )
        found |= {(c.merchant_id, c.livemode) for c in gateway_configs.own_accounts(db)}
        found |= set(
            db.exec(
                select(Payout.merchant_id, Payout.livemode)
                .where(
                    col(Payout.status).in_([PayoutStatus.IN_TRANSIT, PayoutStatus.PAID]),
                    Payout.created_at >= since,
                )
                .distinct()
            ).all()
        )
    return sorted((str(m), bool(live)) for m, live in found)
