"""Making a payout: booked first, sent on the rail after the commit, its answer booked after.

1. In the caller's transaction: the checks (who, currency, a current verified bank account of
   the rail in use), the Payout row and `booking.create_payout` (which takes the amount from the
   available balance under the balance's lock).
2. After the commit, `send`: the rail is asked with idempotency_key = payout.id, so asking
   again (after a timeout, by the retry job or by a cancel) finds the same transfer and never
   pays twice.
3. In a second transaction: the transfer id and the rail's state are booked (`apply_state`:
   in transit, or already further), or a refusal fails the payout (its money is available
   again). RailUnavailable leaves the payout pending; `retry_unsent` sends it again later.

Only the platform's holder is paid out here: money a merchant's own processor holds is paid
out by that processor.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.core import crypto
from backend.core.currency import normalise_currency
from backend.core.db import session_scope
from backend.core.errors import Conflict, ServiceError, ValidationFailed
from backend.core.ids import new_id
from backend.integrations.bank_payouts import (
    ACH_RETURN_REASONS,
    PayoutRail,
    PayoutRefused,
    RailUnavailable,
    TransferState,
    payout_rail,
)
from backend.models import BankAccount, Merchant
from backend.models.enums import PayoutStatus
from backend.models.ledger import PLATFORM, Payout
from backend.models.types import utcnow
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.identity.sessions import SessionContext
from backend.services.ledger import availability
from backend.services.ledger.journal import BalanceKey, lock
from backend.services.merchant import bank_accounts
from backend.services.payments import booking
from backend.services.payments.orders import owned
from backend.services.payouts.authority import require_payout_authority

log = logging.getLogger(__name__)

PO = PayoutStatus
DESCRIPTION = "PAYPORTAL"  # what the merchant's bank statement shows (Plaid: 15 characters)
# A payout younger than this is still being sent by the request that made it.
RETRY_AFTER = timedelta(minutes=1)
PLAID_CURRENCIES = frozenset({"USD"})


def create_manual(
    db: Session,
    scope: Scope,
    actor: Actor,
    currency: str,
    amount: int | None,
    *,
    member: SessionContext | None = None,
) -> Payout:
    """Book a payout of `amount` (None: the whole available balance) in the caller's
    transaction. Call `send(payout.id)` after the commit."""
    require_payout_authority(db, scope, actor, member, step_up_in_live=True)
    upper = normalise_currency(currency)
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
    ):
        raise ValidationFailed("amountCents must be a whole number above zero", param="amountCents")
    return book(db, scope, actor, upper, amount, automatic=False)


def book(
    db: Session,
    scope: Scope,
    actor: Actor,
    currency: str,
    amount: int | None,
    *,
    automatic: bool,
    at: datetime | None = None,
) -> Payout:
    """The Payout row and its booking, for a manual or an automatic payout."""
    rail = payout_rail()
    if rail.name == "plaid" and currency not in PLAID_CURRENCIES:
        raise ValidationFailed(
            f"Payouts in {currency} are not available: Plaid Transfer pays out USD only",
            code="currency_not_supported",
            param="currency",
        )
    account = payout_account(db, scope.merchant_id, rail.name)
    key = BalanceKey(scope.merchant_id, scope.livemode, currency, PLATFORM)
    if amount is None:
        amount = lock(db, key).available
        if amount <= 0:
            raise booking.InsufficientBalance(
                "There is no available balance to pay out", code="balance_insufficient"
            )
    now = at or utcnow()
    payout = Payout(
        id=new_id("po"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        holder=PLATFORM,
        amount=amount,
        currency=currency,
        automatic=automatic,
        rail=rail.name,
        bank_account_id=account.id,
        description=DESCRIPTION,
        arrival_date=availability.add_business_days(now, 1),
        created_by=actor.id,
    )
    return booking.create_payout(db, payout, actor, at)


def payout_account(db: Session, merchant_id: str, rail_name: str) -> BankAccount:
    """The merchant's current verified bank account, linked through the rail in use."""
    account = bank_accounts.current(db, merchant_id)
    if account is None or account.access_token_encrypted is None:
        raise Conflict(
            "Connect and verify a bank account before paying out", code="bank_account_missing"
        )
    if account.provider != rail_name:
        raise Conflict(
            f"The bank account was connected through {account.provider}, payouts now go "
            f"through {rail_name}: connect the bank account again",
            code="bank_account_missing",
        )
    return account


def send(payout_id: str) -> Payout:
    """Send a booked payout on its rail (after the commit that booked it) and book the answer.
    Safe to call again: the same idempotency key finds the same transfer."""
    with session_scope(readonly=True) as db:
        payout = db.get(Payout, payout_id)
        if payout is None:
            raise Conflict(f"No payout {payout_id}")
        if payout.status != PO.PENDING or payout.rail_transfer_id:
            return payout
    try:
        state = request_transfer(payout)
    except RailUnavailable as exc:
        log.warning("payout %s not sent yet (%s): retried later", payout_id, exc.message)
        return payout
    except PayoutRefused as exc:
        return _refused(payout_id, exc.decline_code, exc.message)
    except ServiceError as exc:  # the rail will never take this request as it is
        return _refused(payout_id, exc.code, exc.message)
    with session_scope() as db:
        locked = _locked(db, payout_id)
        apply_state(db, locked, state, SYSTEM)
        return locked


def request_transfer(payout: Payout) -> TransferState:
    """Ask the payout's rail for its transfer (made now, or found by its idempotency key)."""
    rail = rail_of(payout)
    with session_scope(readonly=True) as db:
        account = db.get(BankAccount, payout.bank_account_id) if payout.bank_account_id else None
        merchant = db.get(Merchant, payout.merchant_id)
    if account is None or account.access_token_encrypted is None:
        raise PayoutRefused(
            "bank_account_removed",
            "The bank account this payout was for was removed before it was sent.",
        )
    return rail.send(
        access_token=crypto.decrypt(account.access_token_encrypted),
        account_id=account.provider_account_id,
        amount=payout.amount,
        currency=payout.currency,
        idempotency_key=payout.id,
        legal_name=merchant.name if merchant is not None else "PayPortal merchant",
        description=payout.description or DESCRIPTION,
    )


def rail_of(payout: Payout) -> PayoutRail:
    rail = payout_rail()
    if rail.name != payout.rail:
        raise RailUnavailable(f"Payouts through {payout.rail} are not configured on this server")
    return rail


def apply_state(db: Session, payout: Payout, state: TransferState, actor: Actor) -> None:
    """Record the transfer and bring the payout up to the rail's state (each move once)."""
    if payout.rail_transfer_id is None:
        payout.rail_transfer_id = state.transfer_id
        db.add(payout)
    status = state.status
    moving = ("pending", "posted", "settled", "funds_available", "returned")
    if status in moving and payout.status == PO.PENDING:
        booking.payout_in_transit(db, payout, actor)
    if status in ("settled", "funds_available") and payout.status == PO.IN_TRANSIT:
        booking.payout_paid(db, payout, actor)
    if status == "failed" and payout.status in (PO.PENDING, PO.IN_TRANSIT):
        booking.payout_failed(
            db,
            payout,
            state.failure_code or "failed",
            state.failure_message or "The bank could not take the payout.",
            actor,
        )
    if status == "returned" and payout.status in (PO.IN_TRANSIT, PO.PAID):
        code = state.failure_code or "returned"
        booking.payout_failed(db, payout, code, return_message(code, state.failure_message), actor)
    if status == "cancelled" and payout.status == PO.PENDING:
        booking.cancel_payout(db, payout, actor)
    elif status == "cancelled" and payout.status == PO.IN_TRANSIT:
        booking.payout_failed(
            db, payout, "cancelled", "The payout was cancelled before it reached the bank.", actor
        )


def return_message(code: str, detail: str | None = None) -> str:
    """An ACH return in words: "R01: insufficient funds. The bank returned the payout." """
    reason = ACH_RETURN_REASONS.get(code) or detail or "the bank gave no reason"
    return f"{code}: {reason[:1].lower()}{reason[1:]}. The bank returned the payout."


def retry_unsent(now: datetime | None = None) -> int:
    """Send again every pending payout the rail never confirmed (its answer was lost or the
    rail was down), older than a minute; how many were sent."""
    before = (now or utcnow()) - RETRY_AFTER
    with session_scope(readonly=True) as db:
        ids = db.exec(
            select(Payout.id).where(
                Payout.status == PO.PENDING,
                col(Payout.rail_transfer_id).is_(None),
                col(Payout.rail).in_(("plaid", "sandbox")),
                Payout.created_at <= before,
            )
        ).all()
    sent = 0
    for payout_id in ids:
        if send(payout_id).rail_transfer_id:
            sent += 1
    return sent


def get_locked(db: Session, scope: Scope, payout_id: str) -> Payout:
    return owned(db, Payout, scope, payout_id, param="payoutId", lock=True)


def _locked(db: Session, payout_id: str) -> Payout:
    payout = db.exec(
        select(Payout)
        .where(Payout.id == payout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return payout


def _refused(payout_id: str, code: str, message: str) -> Payout:
    """The rail will not send it: the payout fails and its money is available again."""
    with session_scope() as db:
        payout = _locked(db, payout_id)
        if payout.status == PO.PENDING and payout.rail_transfer_id is None:
            booking.payout_failed(db, payout, code[:32], message[:300], SYSTEM)
        return payout
