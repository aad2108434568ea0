"""Payments: authorized, captured, failed or voided, with their fees and, once captured, the
ledger's journal."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.models import Order, Payment
from backend.models.enums import OrderStatus, PaymentStatus
from backend.services.context import Actor
from backend.services.ledger import postings
from backend.services.payments import merchant_terms
from backend.services.payments.booking.changes import emit, move_payment, record_change
from backend.services.payments.fees import FeeSchedule, compute_fees
from backend.services.payments.new_rows import NewRows
from backend.services.representations import order_to_dict

P = PaymentStatus


def platform_fees(db: Session, merchant_id: str) -> FeeSchedule:
    """The merchant's platform price as it is now (a capture computes its fee afresh)."""
    return merchant_terms.terms(db, merchant_id, fresh=True).platform_fees


def set_fees(payment: Payment, amount: int, platform: FeeSchedule, gateway: FeeSchedule) -> None:
    """The platform's fee, the processor's fee and the merchant's net for `amount`."""
    fees = compute_fees(amount, payment.currency, platform, gateway)
    payment.platform_fee, payment.gateway_fee, payment.net_amount = (
        fees.platform_fee,
        fees.gateway_fee,
        fees.net,
    )


def require_action(
    db: Session,
    payment: Payment,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    rows: NewRows | None = None,
    *,
    code: str | None = None,
) -> None:
    """The customer must authenticate (3-D Secure) before the processor decides. `code` says
    why when the processor said (authentication_required: a charge made without the customer,
    whose issuer asks for them all the same)."""
    move_payment(payment, P.REQUIRES_ACTION)
    set_fees(payment, payment.amount, platform, gateway)
    details = {"code": code} if code else None
    record_change(db, payment, "payment.requires_action", actor, details=details, rows=rows)


def process(
    db: Session,
    payment: Payment,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    rows: NewRows | None = None,
) -> None:
    """A bank debit was sent: the customer's bank answers in days (settle with `capture` or
    `fail`). Its fees are shown as they will be; no money is booked until it succeeds."""
    move_payment(payment, P.PROCESSING)
    set_fees(payment, payment.amount, platform, gateway)
    record_change(db, payment, "payment.processing", actor, rows=rows)


def authorize(
    db: Session,
    payment: Payment,
    amount: int,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    at: datetime,
    rows: NewRows | None = None,
) -> None:
    """The processor holds `amount` on the customer's card, to be captured later."""
    _accepted(payment, amount, platform, gateway, at)
    move_payment(payment, P.AUTHORIZED)
    record_change(db, payment, "payment.authorized", actor, rows=rows)


def capture(
    db: Session,
    order: Order | None,
    payment: Payment,
    amount: int,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    at: datetime,
    rows: NewRows | None = None,
) -> None:
    """The processor took `amount`: fees on it, the payment succeeded and its order (when
    given, i.e. still awaiting payment) is paid."""
    _accepted(payment, amount, platform, gateway, at)
    move_payment(payment, P.SUCCEEDED)
    payment.amount_captured = amount
    payment.captured_at = at
    if order is not None:
        order.status = OrderStatus.PAID
        order.updated_at = at
        if rows is None:  # otherwise the order is new (in rows) or already in the session
            db.add(order)
        emit(
            db,
            rows,
            type="order.paid",
            merchant_id=order.merchant_id,
            livemode=order.livemode,
            object_type="order",
            object_id=order.id,
            data=order_to_dict(order),
        )
    record_change(db, payment, "payment.succeeded", actor, rows=rows)
    postings.captured(
        db,
        payment,
        at,
        holder=postings.holder_of(db, payment),
        delay_days=merchant_terms.terms(db, payment.merchant_id).payout_delay_days,
    )


def _accepted(
    payment: Payment, amount: int, platform: FeeSchedule, gateway: FeeSchedule, at: datetime
) -> None:
    """The processor accepted the payment (held or took `amount`): its fees, no failure, and
    when it was first authorized."""
    set_fees(payment, amount, platform, gateway)
    payment.failure_code = payment.failure_message = None
    payment.authorized_at = payment.authorized_at or at


def fail(
    db: Session,
    payment: Payment,
    code: str,
    message: str,
    actor: Actor,
    rows: NewRows | None = None,
) -> None:
    """No money moved: a decline, a risk block or every processor down."""
    move_payment(payment, P.FAILED)
    payment.failure_code, payment.failure_message = code, message
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.failed", actor, details={"code": code}, rows=rows)


def void(db: Session, payment: Payment, actor: Actor, at: datetime) -> None:
    """The hold is released before capture: no money moved, no fees."""
    move_payment(payment, P.VOIDED)
    payment.canceled_at = at
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.voided", actor)
