"""What happens to a payment after it is taken: capture an authorized hold, void it, refund it.

Each operation locks the payment (SELECT ... FOR UPDATE on PostgreSQL, an immediate write
transaction on SQLite), checks the state machine, calls the processor that took the payment
while the lock is held (so two captures or refunds of one payment can never both pass their
checks), and books the answer through `booking` in the caller's transaction.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.core.errors import Conflict, ValidationFailed
from backend.gateways.base import Outcome, RefundResult, RefundState
from backend.models import Order, Payment, Refund, utcnow
from backend.models.enums import RefundStatus
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.payments import booking, routing, state_machine
from backend.services.payments.charges import attempt_recorder, outcome_of
from backend.services.payments.orders import get_payment, validate_amount

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def capture(
    db: Session, scope: Scope, payment_id: str, *, amount: object = None, actor: Actor = SYSTEM
) -> Payment:
    payment = get_payment(db, scope, payment_id, lock=True)
    state_machine.ensure_operation(payment.status, state_machine.CAPTURABLE, "capture")
    to_capture = payment.amount if amount is None else validate_amount(amount)
    if to_capture > payment.amount:
        raise ValidationFailed(
            f"Cannot capture {to_capture}: only {payment.amount} was authorized",
            param="amountCents",
            code="amount_too_large",
        )
    route = routing.route_for_payment(db, payment)
    result = routing.call(
        route,
        lambda g: g.capture(
            payment.gateway_payment_id or "",
            to_capture,
            payment.currency,
            idempotency_key=f"{payment.id}:capture",
        ),
        attempt_recorder(db, payment, "capture"),
        outcome_of,
    )
    if result.outcome not in (Outcome.SUCCEEDED,):
        raise Conflict(
            result.message or "The gateway refused the capture",
            code=result.decline_code or "capture_failed",
        )
    order = db.get(Order, payment.order_id) if payment.order_id else None
    platform = booking.platform_fees(db, scope.merchant_id)
    booking.capture(db, order, payment, to_capture, platform, route.fees, actor, utcnow())
    booking.record_change(db, payment, "payment.captured", actor, details={"amount": to_capture})
    return payment


def void(db: Session, scope: Scope, payment_id: str, *, actor: Actor = SYSTEM) -> Payment:
    payment = get_payment(db, scope, payment_id, lock=True)
    state_machine.ensure_operation(payment.status, state_machine.VOIDABLE, "void")
    if payment.gateway_payment_id:
        route = routing.route_for_payment(db, payment)
        routing.call(
            route,
            lambda g: g.void(
                payment.gateway_payment_id or "", idempotency_key=f"{payment.id}:void"
            ),
            attempt_recorder(db, payment, "void"),
            lambda _: ("voided", None, None),
        )
    booking.void(db, payment, actor, utcnow())
    return payment


def refund(
    db: Session,
    scope: Scope,
    payment_id: str,
    *,
    amount: object = None,
    reason: object = None,
    actor: Actor = SYSTEM,
) -> tuple[Payment, Refund]:
    payment = get_payment(db, scope, payment_id, lock=True)
    state_machine.ensure_operation(payment.status, state_machine.REFUNDABLE, "refund")
    remaining = payment.amount_captured - payment.amount_refunded
    to_refund = remaining if amount is None else validate_amount(amount)
    if to_refund > remaining:
        raise ValidationFailed(
            f"Cannot refund {to_refund}: only {remaining} of this payment remains refundable",
            param="amountCents",
            code="amount_too_large",
        )
    if reason is not None and reason not in REFUND_REASONS:
        raise ValidationFailed(
            f"reason must be one of: {', '.join(REFUND_REASONS)}", param="reason"
        )
    record = booking.new_refund(payment, to_refund, reason=reason)  # type: ignore[arg-type]
    db.add(record)
    db.flush()
    route = routing.route_for_payment(db, payment)
    result: RefundResult = routing.call(
        route,
        lambda g: g.refund(
            payment.gateway_payment_id or "", to_refund, payment.currency, idempotency_key=record.id
        ),
        attempt_recorder(db, payment, "refund"),
        lambda r: (r.state.value, None, r.failure_reason),
    )
    record.gateway_refund_id = result.gateway_refund_id
    if result.state == RefundState.FAILED:
        booking.record_unbooked_refund(
            db, payment, record, RefundStatus.FAILED, result.failure_reason, actor
        )
        return payment, record
    # A pending refund is booked at once, as processors count it against the payment; the
    # refund.updated webhook later confirms it or, if it fails, reverses the booking.
    booking.book_refund(db, payment, record, actor, pending=result.state == RefundState.PENDING)
    return payment, record
