"""Orders and the reads every payment operation starts from: what a merchant asks to be paid,
its validation, and finding a merchant's own payments and orders (anyone else's are not found)."""

from __future__ import annotations

import logging
from typing import TypeVar

from sqlmodel import Session, col, select

from backend.core.currency import normalise_currency
from backend.core.db import new_instance
from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.models import Customer, Order, Payment, Refund, utcnow
from backend.models.enums import OrderStatus
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.payments.new_rows import NewRows

log = logging.getLogger(__name__)

M = TypeVar("M", Payment, Order, Refund)


MAX_AMOUNT = 99_999_999_999  # minor units; above any real single payment in any currency


def validate_amount(value: object, *, param: str = "amountCents", minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{param} must be an integer amount in minor units", param=param)
    if value < minimum or value > MAX_AMOUNT:
        raise ValidationFailed(
            f"{param} must be between {minimum} and {MAX_AMOUNT}",
            param=param,
            code="amount_out_of_range",
        )
    return value


def validate_metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed("metadata must be an object of strings", param="metadata")
    if len(value) > 50:
        raise ValidationFailed("metadata takes at most 50 keys", param="metadata")
    clean: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= 40:
            raise ValidationFailed(
                "metadata keys are strings of 1 to 40 characters", param="metadata"
            )
        if not isinstance(item, str) or len(item) > 500:
            raise ValidationFailed(
                f"metadata[{key}] must be a string of at most 500 characters", param="metadata"
            )
        clean[key] = item
    return clean


def owned(
    db: Session, model: type[M], scope: Scope, object_id: str, *, param: str, lock: bool = False
) -> M:
    """An object of this merchant and mode; anyone else's id is simply not found (404, never
    403, so ids do not reveal what exists)."""
    query = select(model).where(
        model.id == object_id,  # type: ignore[attr-defined]
        model.merchant_id == scope.merchant_id,  # type: ignore[attr-defined]
        model.livemode == scope.livemode,  # type: ignore[attr-defined]
    )
    if lock:
        query = query.with_for_update()
    found = db.exec(query).first()
    if found is None:
        raise NotFound(f"No such {model.__tablename__[:-1]}: {object_id!r}", param=param)
    return found


def get_payment(db: Session, scope: Scope, payment_id: str, *, lock: bool = False) -> Payment:
    return owned(db, Payment, scope, payment_id, param="paymentId", lock=lock)


def get_order(db: Session, scope: Scope, order_id: str, *, lock: bool = False) -> Order:
    return owned(db, Order, scope, order_id, param="orderId", lock=lock)


def payable_order(db: Session, payment: Payment) -> Order | None:
    """The payment's order, row-locked, if it still awaits payment; else None, so a payment
    that succeeds late (a processor's event, a bank debit settling) never pays it twice."""
    if not payment.order_id:
        return None
    order = db.get(Order, payment.order_id, with_for_update=True)
    if order is None or order.status == OrderStatus.OPEN:
        return order
    log.warning(
        "payment %s succeeded late but order %s is already %s: the customer may have paid twice",
        payment.id,
        order.id,
        order.status,
    )
    return None


def list_order_payments(db: Session, scope: Scope, order_id: str) -> list[Payment]:
    get_order(db, scope, order_id)
    return list(
        db.exec(
            select(Payment)
            .where(Payment.order_id == order_id, Payment.merchant_id == scope.merchant_id)
            .order_by(Payment.created_at, Payment.id)
        )
    )


def create_order(
    db: Session,
    scope: Scope,
    *,
    amount: object,
    currency: object,
    reference: str | None = None,
    customer_email: str | None = None,
    metadata: object = None,
    actor: Actor = SYSTEM,
) -> Order:
    rows = NewRows()
    order = new_order(
        db,
        scope,
        rows,
        amount=amount,
        currency=currency,
        reference=reference,
        customer_email=customer_email,
        metadata=metadata,
        actor=actor,
    )
    rows.write(db)
    return order


def new_order(
    db: Session,
    scope: Scope,
    rows: NewRows,
    *,
    amount: object,
    currency: object,
    reference: str | None = None,
    customer_email: str | None = None,
    metadata: object = None,
    actor: Actor = SYSTEM,
    customer_id: str | None = None,
) -> Order:
    """A validated order and its audit row, added to rows (not yet written). The customer is
    `customer_id` when given (a saved card's), else the one with the e-mail (made if new)."""
    from backend.services.identity.accounts import normalise_email

    amount = validate_amount(amount)
    currency = normalise_currency(currency)
    if reference is not None and (not isinstance(reference, str) or len(reference) > 200):
        raise ValidationFailed(
            "reference must be a string of at most 200 characters", param="reference"
        )
    email = normalise_email(customer_email, param="customerEmail") if customer_email else None
    if customer_id is None:
        customer = customer_for(db, scope, email)
        customer_id = customer.id if customer else None
    now = utcnow()
    order = new_instance(
        Order,
        id=new_id("ord"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        reference=reference,
        customer_email=email,
        metadata_=validate_metadata(metadata),
        created_at=now,
        updated_at=now,
    )
    rows.orders.append(order)
    rows.audit.append(
        audit.new_row(
            action="order.created",
            merchant_id=scope.merchant_id,
            livemode=scope.livemode,
            actor_type=actor.type,
            actor_id=actor.id,
            object_type="order",
            object_id=order.id,
            ip_address=actor.ip_address,
            details={"amount": amount, "currency": currency},
        )
    )
    return order


def customer_for(db: Session, scope: Scope, email: str | None) -> Customer | None:
    """The customer a payment with this e-mail belongs to: the oldest one not deleted with it,
    or a new one."""
    if not email:
        return None
    customer = db.exec(
        select(Customer)
        .where(
            Customer.merchant_id == scope.merchant_id,
            Customer.livemode == scope.livemode,
            Customer.email == email,
            col(Customer.deleted_at).is_(None),
        )
        .order_by(col(Customer.created_at), col(Customer.id))
    ).first()
    if customer is None:
        customer = Customer(
            id=new_id("cus"), merchant_id=scope.merchant_id, livemode=scope.livemode, email=email
        )
        db.add(customer)
        db.flush()
    return customer
