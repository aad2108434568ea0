"""What each money event books: one journal per event, called by the one booking path
(backend/services/payments/booking/) in its transaction, after it changed the rows.

The merchant's side of a journal goes to a pool of its balance:
- a capture's funds (the charge less its fees) are pending until their availability date, or
  available at once (availability.py);
- a debit (a refund, a dispute and its fee) is taken from the available balance when that
  covers it; otherwise it is charged to the pending balance (which may go below zero) and
  settles against the available balance when release.py finds enough there. The available
  balance therefore never goes below zero;
- money handed back (a dispute won, a failed refund or payout) is available at once.

Money held by a merchant's own processor (holder = its configuration) is booked on that
holder's balance; the platform's fee on such a payment is a debit of the platform-held balance,
since that processor pays the merchant the whole charge less its own fee.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.models import Dispute, GatewayConfig, Payment, Refund
from backend.models.enums import BalanceTransactionStatus, BalanceTransactionType, LedgerAccount
from backend.models.ledger import PLATFORM, Payout
from backend.services.ledger import availability
from backend.services.ledger.journal import BalanceKey, Journal, Line, lock, post
from backend.services.payments import gateway_configs

A = LedgerAccount
T = BalanceTransactionType
S = BalanceTransactionStatus


def holder_of(db: Session, payment: Payment) -> str:
    """Who holds this payment's money: the platform, or the merchant's own processor."""
    if payment.gateway_config_id is None:
        return PLATFORM
    config = db.get(GatewayConfig, payment.gateway_config_id)
    if config is not None and gateway_configs.is_own_account(config):
        return config.id
    return PLATFORM


def _key(payment: Payment | Refund | Dispute | Payout, holder: str) -> BalanceKey:
    return BalanceKey(payment.merchant_id, payment.livemode, payment.currency, holder)


def _debit(db: Session, key: BalanceKey, amount: int) -> tuple[LedgerAccount, S]:
    """The pool a debit of `amount` (> 0) is taken from: available when it covers it."""
    pools = lock(db, key)
    if pools.available >= amount:
        return A.MERCHANT_AVAILABLE, S.AVAILABLE
    return A.MERCHANT_PENDING, S.PENDING


def _post_debit(
    db: Session,
    key: BalanceKey,
    *,
    kind: str,
    journal_key: str,
    source: tuple[str, str],
    lines: list[Line],
    counter: list[tuple[LedgerAccount, int]],
    at: datetime,
) -> None:
    """A journal whose lines take money from the merchant (their nets sum below zero) or hand
    it back (above zero, available at once)."""
    net = sum(line.net for line in lines)
    if net < 0:
        pool, status = _debit(db, key, -net)
    else:
        pool, status = A.MERCHANT_AVAILABLE, S.AVAILABLE
    post(
        db,
        Journal(
            balance=key,
            kind=kind,
            key=journal_key,
            source_type=source[0],
            source_id=source[1],
            entries=[(pool, net), *counter],
            lines=lines,
            status=status,
            at=at,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Payments and refunds


def captured(db: Session, payment: Payment, at: datetime, *, holder: str, delay_days: int) -> None:
    """The processor took the payment: its gross, less the platform's and the processor's fee,
    is the merchant's, pending for `delay_days` business days."""
    gross, platform_fee, gateway_fee = (
        payment.amount_captured,
        payment.platform_fee,
        payment.gateway_fee,
    )
    source = ("payment", payment.id)
    lines = [Line(T.CHARGE, gross, *source, description=payment.description)]
    if gateway_fee:
        lines.append(Line(T.PROCESSOR_FEE, -gateway_fee, *source))
    direct_fee = holder != PLATFORM and platform_fee
    if platform_fee and not direct_fee:
        lines.append(Line(T.PLATFORM_FEE, -platform_fee, *source))
    net = sum(line.net for line in lines)
    available_on = availability.available_on(
        at, delay_days, livemode=payment.livemode, card_last4=payment.card_last4
    )
    at_once = available_on <= at
    entries = [
        (A.MERCHANT_AVAILABLE if at_once else A.MERCHANT_PENDING, net),
        (A.PROCESSOR_FEES, gateway_fee),
        (A.PROCESSOR_CLEARING, -gross),
    ]
    if not direct_fee:
        entries.append((A.PLATFORM_FEE_REVENUE, platform_fee))
    post(
        db,
        Journal(
            balance=_key(payment, holder),
            kind="capture",
            key=f"capture:{payment.id}",
            source_type="payment",
            source_id=payment.id,
            entries=entries,
            lines=lines,
            status=S.AVAILABLE if at_once else S.PENDING,
            available_on=available_on,
            at=at,
        ),
    )
    if direct_fee:  # the merchant owes the platform its fee: taken from what we hold for them
        _post_debit(
            db,
            _key(payment, PLATFORM),
            kind="capture_platform_fee",
            journal_key=f"capture_fee:{payment.id}",
            source=source,
            lines=[Line(T.PLATFORM_FEE, -platform_fee, *source)],
            counter=[(A.PLATFORM_FEE_REVENUE, platform_fee)],
            at=at,
        )


def refunded(db: Session, payment: Payment, refund: Refund, at: datetime, *, holder: str) -> None:
    """A booked refund: its amount leaves the merchant's balance; the platform fee it hands
    back returns to it."""
    source = ("refund", refund.id)
    _with_platform_fee(
        db,
        payment,
        holder,
        kinds=("refund", "refund_platform_fee"),
        keys=(f"refund:{refund.id}", f"refund_fee:{refund.id}"),
        source=source,
        lines=[Line(T.REFUND, -refund.amount, *source)],
        counter=[(A.PROCESSOR_CLEARING, refund.amount)],
        fee=refund.platform_fee_refunded,
        at=at,
    )


def refund_reversed(
    db: Session, payment: Payment, refund: Refund, returned_fee: int, at: datetime, *, holder: str
) -> None:
    """A booked refund failed at the processor: its amount comes back, the platform fee it
    had handed back is taken again."""
    source = ("refund", refund.id)
    _with_platform_fee(
        db,
        payment,
        holder,
        kinds=("refund_failure", "refund_failure_platform_fee"),
        keys=(f"refund_failure:{refund.id}", f"refund_failure_fee:{refund.id}"),
        source=source,
        lines=[Line(T.REFUND_FAILURE, refund.amount, *source)],
        counter=[(A.PROCESSOR_CLEARING, -refund.amount)],
        fee=-returned_fee,
        at=at,
    )


def bank_returned(
    db: Session, payment: Payment, fee_back: int, return_fee: int, at: datetime, *, holder: str
) -> None:
    """A succeeded bank debit came back from the customer's bank (an ACH return): its amount
    leaves the merchant's balance, the platform fee comes back, and the processor's return fee
    is charged. The processor keeps its own fee, as for a refund."""
    source = ("payment", payment.id)
    gross = payment.amount_captured
    lines = [Line(T.PAYMENT_FAILURE_REFUND, -gross, *source, description=payment.failure_message)]
    if return_fee:
        lines.append(Line(T.BANK_RETURN_FEE, -return_fee, *source))
    _with_platform_fee(
        db,
        payment,
        holder,
        kinds=("bank_return", "bank_return_platform_fee"),
        keys=(f"bank_return:{payment.id}", f"bank_return_fee:{payment.id}"),
        source=source,
        lines=lines,
        counter=[(A.PROCESSOR_CLEARING, gross), (A.PROCESSOR_FEES, return_fee)],
        fee=fee_back,
        at=at,
    )


def _with_platform_fee(
    db: Session,
    payment: Payment,
    holder: str,
    *,
    kinds: tuple[str, str],
    keys: tuple[str, str],
    source: tuple[str, str],
    lines: list[Line],
    counter: list[tuple[LedgerAccount, int]],
    fee: int,
    at: datetime,
) -> None:
    """A journal of `lines` on the holder's balance, with the platform fee that moves with it
    (`fee` > 0: handed back to the merchant; < 0: taken again). A merchant's own processor
    never held our fee, so there the fee is its own journal on the platform-held balance."""
    fee_line = [Line(T.PLATFORM_FEE, fee, *source)] if fee else []
    direct = holder != PLATFORM
    _post_debit(
        db,
        _key(payment, holder),
        kind=kinds[0],
        journal_key=keys[0],
        source=source,
        lines=[*lines, *([] if direct else fee_line)],
        counter=[*counter, (A.PLATFORM_FEE_REVENUE, 0 if direct else -fee)],
        at=at,
    )
    if direct and fee:
        _post_debit(
            db,
            _key(payment, PLATFORM),
            kind=kinds[1],
            journal_key=keys[1],
            source=source,
            lines=fee_line,
            counter=[(A.PLATFORM_FEE_REVENUE, -fee)],
            at=at,
        )


# ---------------------------------------------------------------------------------------------
# Disputes


def dispute_opened(db: Session, dispute: Dispute, at: datetime, *, holder: str) -> None:
    """The disputed amount and the processor's dispute fee leave the merchant's balance; the
    amount waits in the dispute reserve until the dispute is decided."""
    source = ("dispute", dispute.id)
    lines = [Line(T.DISPUTE, -dispute.amount, *source)]
    if dispute.fee:
        lines.append(Line(T.DISPUTE_FEE, -dispute.fee, *source))
    _post_debit(
        db,
        _key(dispute, holder),
        kind="dispute_opened",
        journal_key=f"dispute:{dispute.id}",
        source=source,
        lines=lines,
        counter=[(A.DISPUTE_RESERVE, dispute.amount), (A.PROCESSOR_FEES, dispute.fee)],
        at=at,
    )


def dispute_closed(db: Session, dispute: Dispute, *, won: bool, at: datetime, holder: str) -> None:
    """Won: the amount and the fee come back to the merchant. Lost: the reserve goes to the
    cardholder through the processor."""
    key = _key(dispute, holder)
    source = ("dispute", dispute.id)
    if not won:
        post(
            db,
            Journal(
                balance=key,
                kind="dispute_lost",
                key=f"dispute_lost:{dispute.id}",
                source_type="dispute",
                source_id=dispute.id,
                entries=[
                    (A.DISPUTE_RESERVE, -dispute.amount),
                    (A.PROCESSOR_CLEARING, dispute.amount),
                ],
                at=at,
            ),
        )
        return
    lines = [Line(T.DISPUTE_REVERSAL, dispute.amount, *source)]
    if dispute.fee:
        lines.append(Line(T.DISPUTE_FEE, dispute.fee, *source, description="Dispute fee returned"))
    _post_debit(
        db,
        key,
        kind="dispute_won",
        journal_key=f"dispute_won:{dispute.id}",
        source=source,
        lines=lines,
        counter=[(A.DISPUTE_RESERVE, -dispute.amount), (A.PROCESSOR_FEES, -dispute.fee)],
        at=at,
    )


# ---------------------------------------------------------------------------------------------
# Payouts


def payout_created(db: Session, payout: Payout, *, whole: bool, at: datetime) -> None:
    """The payout leaves the available balance (the caller checked it covers it under the
    balance's lock) and is in transit until the bank has it. A payout of the whole balance
    counts its own transaction among those it paid out; a partial one leaves it to the next
    payout (so the transactions a payout paid out always add up to it, as Stripe's)."""
    source = ("payout", payout.id)
    post(
        db,
        Journal(
            balance=_key(payout, payout.holder),
            kind="payout",
            key=f"payout:{payout.id}",
            source_type="payout",
            source_id=payout.id,
            entries=[
                (A.MERCHANT_AVAILABLE, -payout.amount),
                (A.MERCHANT_IN_TRANSIT, payout.amount),
            ],
            lines=[Line(T.PAYOUT, -payout.amount, *source, description=payout.description)],
            payout_id=payout.id if whole else None,
            at=at,
        ),
    )


def processor_payout(db: Session, payout: Payout, at: datetime) -> None:
    """A payout a merchant's own processor made (imported): a fact, booked whatever our view of
    that balance says. It takes what is available and, when the processor's availability ran
    ahead of ours, the rest from pending (settled again when those funds are released)."""
    key = _key(payout, payout.holder)
    from_available = min(payout.amount, max(lock(db, key).available, 0))
    post(
        db,
        Journal(
            balance=key,
            kind="processor_payout",
            key=f"payout:{payout.id}",
            source_type="payout",
            source_id=payout.id,
            entries=[
                (A.MERCHANT_AVAILABLE, -from_available),
                (A.MERCHANT_PENDING, from_available - payout.amount),
                (A.MERCHANT_IN_TRANSIT, payout.amount),
            ],
            lines=[
                Line(T.PAYOUT, -payout.amount, "payout", payout.id, description=payout.description)
            ],
            payout_id=payout.id,
            at=at,
        ),
    )


def payout_paid(db: Session, payout: Payout, at: datetime) -> None:
    post(
        db,
        Journal(
            balance=_key(payout, payout.holder),
            kind="payout_paid",
            key=f"payout_paid:{payout.id}",
            source_type="payout",
            source_id=payout.id,
            entries=[(A.MERCHANT_IN_TRANSIT, -payout.amount), (A.BANK, payout.amount)],
            at=at,
        ),
    )


def payout_returned(
    db: Session, payout: Payout, *, canceled: bool, was_paid: bool, at: datetime
) -> None:
    """A payout that failed, was canceled, or came back from the bank after it was paid (an
    ACH return): its amount is available again."""
    kind = T.PAYOUT_CANCEL if canceled else T.PAYOUT_FAILURE
    post(
        db,
        Journal(
            balance=_key(payout, payout.holder),
            kind="payout_canceled" if canceled else "payout_failed",
            key=f"payout_returned:{payout.id}",
            source_type="payout",
            source_id=payout.id,
            entries=[
                (A.BANK if was_paid else A.MERCHANT_IN_TRANSIT, -payout.amount),
                (A.MERCHANT_AVAILABLE, payout.amount),
            ],
            lines=[Line(kind, payout.amount, "payout", payout.id)],
            at=at,
        ),
    )
