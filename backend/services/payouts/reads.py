"""What the merchant reads: its balance, the transactions that make it up, its payouts.

Lists are newest first and paged by keyset on (created_at, id) (backend/services/paging.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, and_, col, select

from backend.core.currency import normalise_currency
from backend.core.errors import ValidationFailed
from backend.models.enums import BalanceTransactionType, PayoutStatus
from backend.models.ledger import Balance, BalanceTransaction, Payout
from backend.services.context import Scope
from backend.services.paging import keyset_page
from backend.services.payments.orders import owned

BT = BalanceTransaction


def balance(db: Session, scope: Scope) -> dict[str, dict[str, int]]:
    """Per currency: available, pending and inTransit, summed over who holds the money."""
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"available": 0, "pending": 0, "inTransit": 0}
    )
    rows = db.exec(
        select(Balance).where(
            Balance.merchant_id == scope.merchant_id, Balance.livemode == scope.livemode
        )
    ).all()
    for row in rows:
        total = totals[row.currency]
        total["available"] += row.available
        total["pending"] += row.pending
        total["inTransit"] += row.in_transit
    return dict(sorted(totals.items()))


def list_balance_transactions(
    db: Session,
    scope: Scope,
    *,
    type: str | None = None,
    payout: str | None = None,
    currency: str | None = None,
    created_gte: datetime | None = None,
    created_lte: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[BalanceTransaction], str | None]:
    """One page of the merchant's balance transactions, newest first, and the next cursor."""
    query = select(BT).where(BT.merchant_id == scope.merchant_id, BT.livemode == scope.livemode)
    if type is not None:
        if type not in set(BalanceTransactionType):
            choices = ", ".join(BalanceTransactionType)
            raise ValidationFailed(f"type must be one of: {choices}", param="type")
        query = query.where(BT.type == type)
    if payout is not None:
        query = query.where(BT.payout_id == payout)
    if currency is not None:
        query = query.where(BT.currency == normalise_currency(currency))
    if created_gte is not None:
        query = query.where(BT.created_at >= created_gte)
    if created_lte is not None:
        query = query.where(BT.created_at <= created_lte)
    return keyset_page(db, scope, BT, query, limit, cursor)


def list_payouts(
    db: Session,
    scope: Scope,
    *,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Payout], str | None]:
    query = select(Payout).where(
        Payout.merchant_id == scope.merchant_id, Payout.livemode == scope.livemode
    )
    if status is not None:
        if status not in set(PayoutStatus):
            choices = ", ".join(PayoutStatus)
            raise ValidationFailed(f"status must be one of: {choices}", param="status")
        query = query.where(Payout.status == status)
    return keyset_page(db, scope, Payout, query, limit, cursor)


def get_payout(db: Session, scope: Scope, payout_id: str) -> Payout:
    """This merchant's payout; anyone else's id is not found (404)."""
    return owned(db, Payout, scope, payout_id, param="payoutId")


def paid_out_transactions(db: Session, payout: Payout) -> list[BalanceTransaction]:
    """The balance transactions this payout paid out (its own excluded): their nets add up to
    it. Empty for a partial payout, whose transactions the next whole payout takes."""
    return list(
        db.exec(
            select(BT)
            .where(
                BT.merchant_id == payout.merchant_id,
                BT.livemode == payout.livemode,
                BT.payout_id == payout.id,
                ~and_(BT.source_type == "payout", BT.source_id == payout.id),
            )
            .order_by(col(BT.created_at).desc(), col(BT.id).desc())
        ).all()
    )
