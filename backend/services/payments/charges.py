"""The payment lifecycle: orders, authorize, capture, charge, void, refund, get and list.

Every entry point (REST API, portal, webhooks) calls these functions, inside a unit of work the
caller opens with `session_scope()`. Each function locks the rows it changes
(SELECT ... FOR UPDATE on PostgreSQL, an immediate write transaction on SQLite), checks the
state machine, talks to the gateway, and writes the change, its audit row and its outbox events
in that one transaction: either all of it is committed or none of it.

A gateway is called while the row lock is held, so two captures or refunds of one payment can
never both pass their checks. Gateway calls carry idempotency keys derived from our own ids, so
retrying after a crash between the gateway's answer and our commit repeats nothing at Stripe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session, select

from backend.core.currency import normalise_currency
from backend.core.db import adopt, insert_rows, new_instance, new_row, pipelined, row_values
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways.base import (
    Outcome,
    PaymentRequest,
    PaymentResult,
    RefundResult,
    RefundState,
)
from backend.models import (
    AuditLog,
    Customer,
    DomainEvent,
    Merchant,
    Order,
    Payment,
    PaymentAttempt,
    Refund,
    utcnow,
)
from backend.models.enums import (
    ActorType,
    CaptureMethod,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    RiskDecision,
)
from backend.services import audit, events
from backend.services.payments import merchant_terms, risk, routing, state_machine
from backend.services.payments.fees import (
    FeeSchedule,
    compute_fees,
    platform_schedule,
    returned_platform_fee,
)
from backend.services.representations import order_to_dict, payment_to_dict, refund_to_dict

M = TypeVar("M", Payment, Order, Refund)
MAX_AMOUNT = 99_999_999_999  # minor units; above any real single payment in any currency
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
PAYMENT_METHOD_TYPES = ("card",)
# Payments of an order that block another payment for it.
_ACTIVE = (
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)


@dataclass(frozen=True)
class Scope:
    """Whose objects a caller may see: one merchant, one mode (test or live)."""

    merchant_id: str
    livemode: bool


@dataclass(frozen=True)
class Actor:
    type: ActorType = ActorType.SYSTEM
    id: str | None = None
    ip_address: str | None = None


SYSTEM = Actor()


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    # Set when no money moved: a decline, a risk block or every gateway down.
    error_code: str | None = None
    error_message: str | None = None
    # A risk refusal: the rule that fired (risk.RiskAssessment.rule).
    error_rule: str | None = None
    dispute_expected: bool = False

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class PaymentMethodInput:
    type: str
    token: str


@dataclass
class ChargeInput:
    payment_method: PaymentMethodInput
    order_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    gateway_type: str | None = None
    customer_email: str | None = None
    description: str | None = None
    billing_country: str | None = None
    ip_address: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


# ---------------------------------------------------------------------------------------------
# Validation helpers


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


def _country(value: str | None, param: str) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) == 2 and value.isalpha()):
        raise ValidationFailed(f"{param} must be a two-letter ISO 3166 country code", param=param)
    return value.upper()


# ---------------------------------------------------------------------------------------------
# Reads


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


def list_order_payments(db: Session, scope: Scope, order_id: str) -> list[Payment]:
    get_order(db, scope, order_id)
    return list(
        db.exec(
            select(Payment)
            .where(Payment.order_id == order_id, Payment.merchant_id == scope.merchant_id)
            .order_by(Payment.created_at, Payment.id)
        )
    )


def refunds_of(db: Session, payment_id: str) -> list[Refund]:
    return list(
        db.exec(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.created_at))
    )


# ---------------------------------------------------------------------------------------------
# New rows


class _NewRows:
    """The rows one operation creates, written together at its end: one INSERT per table.

    Creating an order or a payment only adds rows (its audit rows, outbox events and gateway
    attempts with it), so they are computed in memory and written with Core INSERTs rather
    than through the ORM's unit of work (see backend.core.db.new_instance). They are written in the
    caller's transaction like everything else: all of it is committed, or none of it.
    """

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.payments: list[Payment] = []
        self.attempts: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def event(self, **event: Any) -> None:
        """The outbox row `events.emit` would add (its arguments)."""
        self.events.append(events.new_row(**event))

    def write(self, db: Session) -> None:
        if db.new:  # rows the caller added (a customer...) first: ours may refer to them
            db.flush()
        # Parents first: payments reference orders; attempts, audit rows and events come after.
        connection = db.connection()
        with pipelined(connection):
            insert_rows(connection, Order, [row_values(o) for o in self.orders])
            insert_rows(connection, Payment, [row_values(p) for p in self.payments])
            insert_rows(connection, PaymentAttempt, self.attempts)
            insert_rows(connection, AuditLog, self.audit)
            insert_rows(connection, DomainEvent, self.events)
        for obj in (*self.orders, *self.payments):
            adopt(db, obj)


# ---------------------------------------------------------------------------------------------
# Orders


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
    rows = _NewRows()
    order = _new_order(
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


def _new_order(
    db: Session,
    scope: Scope,
    rows: _NewRows,
    *,
    amount: object,
    currency: object,
    reference: str | None = None,
    customer_email: str | None = None,
    metadata: object = None,
    actor: Actor = SYSTEM,
) -> Order:
    """A validated order and its audit row, added to rows (not yet written)."""
    from backend.services.identity.accounts import normalise_email

    amount = validate_amount(amount)
    currency = normalise_currency(currency)
    if reference is not None and (not isinstance(reference, str) or len(reference) > 200):
        raise ValidationFailed(
            "reference must be a string of at most 200 characters", param="reference"
        )
    email = normalise_email(customer_email, param="customerEmail") if customer_email else None
    customer = _customer_for(db, scope, email)
    now = utcnow()
    order = new_instance(
        Order,
        id=new_id("ord"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer.id if customer else None,
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


def _customer_for(db: Session, scope: Scope, email: str | None) -> Customer | None:
    if not email:
        return None
    customer = db.exec(
        select(Customer).where(
            Customer.merchant_id == scope.merchant_id,
            Customer.livemode == scope.livemode,
            Customer.email == email,
        )
    ).first()
    if customer is None:
        customer = Customer(
            id=new_id("cus"), merchant_id=scope.merchant_id, livemode=scope.livemode, email=email
        )
        db.add(customer)
        db.flush()
    return customer


# ---------------------------------------------------------------------------------------------
# Authorize and charge


def authorize(
    db: Session, scope: Scope, data: ChargeInput, *, actor: Actor = SYSTEM
) -> PaymentOutcome:
    """Place a hold on the customer's card for the order's amount; capture it later."""
    return _create_payment(db, scope, data, capture=False, actor=actor)


def charge(
    db: Session, scope: Scope, data: ChargeInput, *, actor: Actor = SYSTEM
) -> PaymentOutcome:
    """Authorize and capture at once."""
    return _create_payment(db, scope, data, capture=True, actor=actor)


def _create_payment(
    db: Session, scope: Scope, data: ChargeInput, *, capture: bool, actor: Actor
) -> PaymentOutcome:
    """Validate, score, call the gateway, then write the payment with everything it created
    (order, attempts, audit rows, events) in the caller's transaction."""
    rows = _NewRows()
    outcome = _payment_outcome_of(db, scope, data, capture, actor, rows)
    rows.write(db)
    return outcome


def _payment_outcome_of(
    db: Session, scope: Scope, data: ChargeInput, capture: bool, actor: Actor, rows: _NewRows
) -> PaymentOutcome:
    from backend.services.identity.accounts import normalise_email

    method = data.payment_method
    if method.type not in PAYMENT_METHOD_TYPES:
        raise ValidationFailed(
            f"paymentMethod.type must be one of: {', '.join(PAYMENT_METHOD_TYPES)}",
            param="paymentMethod.type",
        )
    if not method.token or len(method.token) > 255:
        raise ValidationFailed("paymentMethod.token is required", param="paymentMethod.token")
    email = (
        normalise_email(data.customer_email, param="customerEmail") if data.customer_email else None
    )
    billing_country = _country(data.billing_country, "billingCountry")
    ip_address = risk.canonical_ip(data.ip_address)
    metadata = validate_metadata(data.metadata)
    terms = merchant_terms.terms(db, scope.merchant_id)

    order = _order_for_payment(db, scope, data, email, actor, rows)
    email = email or order.customer_email
    routes = routing.candidate_routes(
        db,
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        amount=order.amount,
        currency=order.currency,
        method=method.type,
        requested=data.gateway_type,
    )
    card = routes[0].gateway.card_details(method.token)

    now = utcnow()
    payment = new_instance(
        Payment,
        id=new_id("pay"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        order_id=order.id,
        customer_id=order.customer_id,
        capture_method=CaptureMethod.AUTOMATIC if capture else CaptureMethod.MANUAL,
        currency=order.currency,
        amount=order.amount,
        gateway=routes[0].name,
        gateway_config_id=routes[0].config_id,
        payment_method_type=method.type,
        customer_email=email,
        billing_country=billing_country,
        ip_address=ip_address,
        description=data.description,
        metadata_=metadata,
        created_at=now,
        updated_at=now,
    )
    if card is not None:
        _store_card(payment, card)

    assessment = risk.assess(
        db,
        risk.RiskInput(
            merchant_id=scope.merchant_id,
            livemode=scope.livemode,
            amount=order.amount,
            currency=order.currency,
            customer_email=email,
            ip_address=ip_address,
            billing_country=billing_country,
            card=card,
        ),
        review_score=terms.risk_review_score,
        block_score=terms.risk_block_score,
    )
    payment.risk_score = assessment.score
    payment.risk_decision = assessment.decision
    payment.risk_reasons = list(assessment.reasons)
    rows.payments.append(payment)  # attempts and events below reference it

    if assessment.decision == RiskDecision.BLOCK:
        message = risk.refusal_message(assessment.rule)
        _fail(db, payment, "risk_blocked", message, actor, rows)
        return PaymentOutcome(payment, "payment_blocked", message, error_rule=assessment.rule)

    request = PaymentRequest(
        amount=order.amount,
        currency=order.currency,
        payment_method_type=method.type,
        payment_method_token=method.token,
        capture=capture,
        idempotency_key=_gateway_key(scope, data.idempotency_key, payment.id, "create"),
        description=data.description,
        customer_email=email,
        metadata={"payment_id": payment.id, "order_id": order.id, **metadata},
    )
    try:
        route, result = routing.with_failover(
            routes,
            lambda g: g.create_payment(request),
            _recorder(db, payment, "authorize" if not capture else "charge", rows),
            _payment_outcome,
        )
    except routing.AllGatewaysUnavailable as exc:
        _fail(db, payment, exc.code, exc.message, actor, rows)
        return PaymentOutcome(payment, exc.code, exc.message)

    payment.gateway = route.name
    payment.gateway_config_id = route.config_id
    payment.gateway_payment_id = result.gateway_payment_id
    if result.card is not None:
        _store_card(payment, result.card)
    return _apply_result(db, terms.platform_fees, order, payment, result, route.fees, actor, rows)


def _order_for_payment(
    db: Session, scope: Scope, data: ChargeInput, email: str | None, actor: Actor, rows: _NewRows
) -> Order:
    if data.order_id:
        if data.amount is not None or data.currency is not None:
            raise ValidationFailed(
                "Give either orderId or amountCents and currency, not both", param="orderId"
            )
        order = get_order(db, scope, data.order_id, lock=True)
        if order.status != OrderStatus.OPEN:
            raise Conflict(
                f"Order {order.id} is {order.status} and cannot take a payment",
                code="order_not_payable",
                param="orderId",
            )
        active = db.exec(
            select(Payment.id).where(
                Payment.order_id == order.id,
                Payment.status.in_(_ACTIVE),  # type: ignore[attr-defined]
            )
        ).first()
        if active:
            raise Conflict(
                f"Order {order.id} already has payment {active}",
                code="order_already_paid",
                param="orderId",
            )
        return order
    if data.amount is None or data.currency is None:
        raise ValidationFailed("Give orderId, or amountCents and currency", param="orderId")
    return _new_order(
        db,
        scope,
        rows,
        amount=data.amount,
        currency=data.currency,
        customer_email=email,
        actor=actor,
    )


def _apply_result(
    db: Session,
    platform_fees: FeeSchedule,
    order: Order,
    payment: Payment,
    result: PaymentResult,
    gateway_fees: routing.FeeSchedule,
    actor: Actor,
    rows: _NewRows | None = None,
) -> PaymentOutcome:
    now = utcnow()
    if result.outcome == Outcome.DECLINED:
        message = result.message or "The card was declined."
        _fail(db, payment, result.decline_code or "card_declined", message, actor, rows)
        return PaymentOutcome(payment, "card_declined", message)

    if result.outcome == Outcome.REQUIRES_ACTION:
        move_payment(payment, PaymentStatus.REQUIRES_ACTION)
        _apply_fees(payment, payment.amount, platform_fees, gateway_fees)
        record_change(db, payment, "payment.requires_action", actor, rows=rows)
        return PaymentOutcome(payment)

    _apply_fees(payment, payment.amount, platform_fees, gateway_fees)
    payment.authorized_at = payment.authorized_at or now
    if result.outcome == Outcome.AUTHORIZED:
        move_payment(payment, PaymentStatus.AUTHORIZED)
        record_change(db, payment, "payment.authorized", actor, rows=rows)
    else:
        _mark_captured(db, order, payment, payment.amount, actor, now, rows)
    return PaymentOutcome(payment, dispute_expected=result.dispute_expected)


def _mark_captured(
    db: Session,
    order: Order | None,
    payment: Payment,
    amount: int,
    actor: Actor,
    now: Any,
    rows: _NewRows | None = None,
) -> None:
    move_payment(payment, PaymentStatus.SUCCEEDED)
    payment.amount_captured = amount
    payment.captured_at = now
    if order is not None:
        order.status = OrderStatus.PAID
        order.updated_at = now
        if rows is None:  # otherwise the order is new (in rows) or already in the session
            db.add(order)
        _emit(
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


def _set_fees(
    db: Session,
    merchant: Merchant,
    payment: Payment,
    amount: int,
    gateway_fees: routing.FeeSchedule,
) -> None:
    _apply_fees(payment, amount, platform_schedule(db, merchant), gateway_fees)


def _apply_fees(
    payment: Payment, amount: int, platform_fees: FeeSchedule, gateway_fees: FeeSchedule
) -> None:
    fees = compute_fees(amount, payment.currency, platform_fees, gateway_fees)
    payment.platform_fee, payment.gateway_fee, payment.net_amount = (
        fees.platform_fee,
        fees.gateway_fee,
        fees.net,
    )


def _fail(
    db: Session,
    payment: Payment,
    code: str,
    message: str,
    actor: Actor,
    rows: _NewRows | None = None,
) -> None:
    move_payment(payment, PaymentStatus.FAILED)
    payment.failure_code, payment.failure_message = code, message
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.failed", actor, details={"code": code}, rows=rows)


# ---------------------------------------------------------------------------------------------
# Capture, void, refund


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
        _recorder(db, payment, "capture"),
        _payment_outcome,
    )
    if result.outcome not in (Outcome.SUCCEEDED,):
        raise Conflict(
            result.message or "The gateway refused the capture",
            code=result.decline_code or "capture_failed",
        )
    merchant = db.get(Merchant, scope.merchant_id)
    assert merchant is not None
    _set_fees(db, merchant, payment, to_capture, route.fees)
    order = db.get(Order, payment.order_id) if payment.order_id else None
    _mark_captured(db, order, payment, to_capture, actor, utcnow())
    record_change(db, payment, "payment.captured", actor, details={"amount": to_capture})
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
            _recorder(db, payment, "void"),
            lambda _: ("voided", None, None),
        )
    move_payment(payment, PaymentStatus.VOIDED)
    payment.canceled_at = utcnow()
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.voided", actor)
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
    record = Refund(
        id=new_id("re"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        payment_id=payment.id,
        amount=to_refund,
        currency=payment.currency,
        reason=reason,
    )  # type: ignore[arg-type]
    db.add(record)
    db.flush()
    route = routing.route_for_payment(db, payment)
    result: RefundResult = routing.call(
        route,
        lambda g: g.refund(
            payment.gateway_payment_id or "", to_refund, payment.currency, idempotency_key=record.id
        ),
        _recorder(db, payment, "refund"),
        lambda r: (r.state.value, None, r.failure_reason),
    )
    record.gateway_refund_id = result.gateway_refund_id
    if result.state == RefundState.FAILED:
        record.status = RefundStatus.FAILED
        record.failure_reason = result.failure_reason
        events.emit(
            db,
            type="refund.updated",
            merchant_id=scope.merchant_id,
            livemode=scope.livemode,
            object_type="refund",
            object_id=record.id,
            data=refund_to_dict(record),
        )
        return payment, record
    # A pending refund is booked at once, as processors count it against the payment; the
    # refund.updated webhook later confirms it or, if it fails, reverses the booking.
    apply_refund(db, payment, record, actor, pending=result.state == RefundState.PENDING)
    return payment, record


def apply_refund(
    db: Session, payment: Payment, record: Refund, actor: Actor, *, pending: bool = False
) -> None:
    """Book a refund the gateway accepted: fees, net, statuses, audit and events."""
    merchant = db.get(Merchant, payment.merchant_id)
    assert merchant is not None
    if not pending:
        state_machine.ensure_refund_move(record.status, RefundStatus.SUCCEEDED)
    refunded_before = payment.amount_refunded
    back = 0
    if merchant.refund_returns_platform_fee:
        original_fee = payment.platform_fee + sum(
            r.platform_fee_refunded for r in refunds_of(db, payment.id) if r.id != record.id
        )
        back = returned_platform_fee(
            original_fee=original_fee,
            captured=payment.amount_captured,
            refunded_before=refunded_before,
            refund=record.amount,
        )
    record.status = RefundStatus.PENDING if pending else RefundStatus.SUCCEEDED
    record.platform_fee_refunded = back
    record.updated_at = utcnow()
    payment.amount_refunded = refunded_before + record.amount
    payment.platform_fee -= back
    payment.net_amount -= record.amount - back
    full = payment.amount_refunded == payment.amount_captured
    # A refund can reach us (webhook) while the payment's dispute is open or lost: the payment
    # stays disputed, and closing the dispute won settles its status.
    if payment.status != PaymentStatus.DISPUTED:
        move_payment(payment, PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED)
    if payment.order_id:
        order = db.get(Order, payment.order_id)
        if order is not None:
            order.status = OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
            order.updated_at = utcnow()
            db.add(order)
    db.add(record)
    record_change(
        db,
        payment,
        "payment.refunded",
        actor,
        details={"refund": record.id, "amount": record.amount},
        extra={"refund": refund_to_dict(record)},
    )


# ---------------------------------------------------------------------------------------------
# Shared mechanics


def move_payment(payment: Payment, target: PaymentStatus) -> None:
    state_machine.ensure_payment_move(payment.status, target)
    payment.status = target
    payment.updated_at = utcnow()


def record_change(
    db: Session,
    payment: Payment,
    type: str,
    actor: Actor,
    *,
    details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    rows: _NewRows | None = None,
) -> None:
    """The audit row and the outbox event of a change to a payment, in the caller's
    transaction (added to rows, when given, for a payment that is being created)."""
    audit_values: dict[str, Any] = {
        "action": type,
        "merchant_id": payment.merchant_id,
        "livemode": payment.livemode,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "object_type": "payment",
        "object_id": payment.id,
        "ip_address": actor.ip_address,
        "details": {"status": payment.status, **(details or {})},
    }
    if rows is None:
        db.add(payment)
        audit.record(db, **audit_values)
    else:
        rows.audit.append(audit.new_row(**audit_values))
    _emit(
        db,
        rows,
        type=type,
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        object_type="payment",
        object_id=payment.id,
        data={"payment": payment_to_dict(payment), **(extra or {})},
    )


def _emit(db: Session, rows: _NewRows | None, **event: Any) -> None:
    if rows is None:
        events.emit(db, **event)
    else:
        rows.event(**event)


def _store_card(payment: Payment, card: Any) -> None:
    payment.card_brand = card.brand
    payment.card_last4 = card.last4
    payment.card_exp_month = card.exp_month
    payment.card_exp_year = card.exp_year
    payment.card_fingerprint = card.fingerprint
    payment.card_country = card.country


def _payment_outcome(result: PaymentResult) -> tuple[str, str | None, str | None]:
    return result.outcome.value, result.decline_code, result.message


def _recorder(
    db: Session, payment: Payment, operation: str, rows: _NewRows | None = None
) -> routing.RecordAttempt:
    def record(
        route: routing.Route, outcome: str, code: str | None, message: str | None, latency_ms: int
    ) -> None:
        values = {
            "id": new_id("att"),
            "merchant_id": payment.merchant_id,
            "payment_id": payment.id,
            "operation": operation,
            "gateway": route.name,
            "outcome": outcome,
            "code": code,
            "message": (message or "")[:500] or None,
            "latency_ms": latency_ms,
        }
        if rows is None:
            db.add(PaymentAttempt(**values))
        else:
            rows.attempts.append(new_row(PaymentAttempt, **values))

    return record


def _gateway_key(scope: Scope, idempotency_key: str | None, payment_id: str, op: str) -> str:
    """Retries of one API request (same Idempotency-Key) reach the gateway with one key."""
    if idempotency_key:
        raw = f"{scope.merchant_id}:{int(scope.livemode)}:{idempotency_key}:{op}"
        return "pp_" + hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"{payment_id}:{op}"
