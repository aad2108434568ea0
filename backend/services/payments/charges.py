"""Taking a payment: authorize (a hold to capture later) or charge (at once), for an existing
order or a new one.

Every entry point (REST API, portal, checkout) calls these functions inside a unit of work the
caller opens with `session_scope()`. A payment is validated and scored before any processor is
called; routing picks the processor (with failover while none may have acted); the answer is
booked through `booking`, and the payment is written with everything it created (order, attempts,
audit rows, events) in the caller's transaction: either all of it is committed or none of it.

Gateway calls carry idempotency keys derived from our own ids, so retrying after a crash between
the processor's answer and our commit repeats nothing at the processor.

A card saved for a customer (backend.services.customers.payment_methods) is charged by
`charge_saved_method`, through this same path: scored, booked and written as any payment, but
sent to the processor the card was saved at only (no failover: the card exists nowhere else),
for the processor's customer, off session by default (the customer is not there).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, select

from backend.core.db import new_instance, new_row
from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.core.url_text import redirect_url
from backend.gateways.base import MandateAcceptance, Outcome, PaymentRequest, PaymentResult
from backend.models import BankDebit, Customer, Order, Payment, PaymentAttempt, utcnow
from backend.models.enums import CaptureMethod, OrderStatus, PaymentStatus, RiskDecision
from backend.services import idempotency
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.payments import bank_debits, booking, merchant_terms, risk, routing
from backend.services.payments.fees import FeeSchedule
from backend.services.payments.new_rows import NewRows
from backend.services.payments.orders import get_order, new_order, validate_metadata

PAYMENT_METHOD_TYPES = routing.PAYMENT_METHOD_TYPES
PAYPAL = "paypal"  # a payment the buyer approves on PayPal's page (no token)


# Payments of an order that block another payment for it.
_ACTIVE = (
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    # Set when no money moved: a decline, a risk block or every gateway down.
    error_code: str | None = None
    error_message: str | None = None
    # A risk refusal: the rule that fired (risk.RiskAssessment.rule).
    error_rule: str | None = None
    dispute_expected: bool = False
    # With ChargeInput.save_card: the card saved for the customer (pm_...), if it was.
    saved_method: str | None = None
    # A bank payment: its mandate and account, written after the payment row.
    bank_debit: BankDebit | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class PaymentMethodInput:
    type: str
    token: str


@dataclass(frozen=True)
class SavedCardCharge:
    """A card saved for a customer: charged at its processor account only, for the
    processor's customer, off session unless the customer is there."""

    customer_id: str
    route: routing.Route
    gateway_customer_id: str
    off_session: bool = True


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
    saved: SavedCardCharge | None = None
    # Where a processor with its own approval page (PayPal) sends the customer back.
    return_url: str | None = None
    cancel_url: str | None = None
    # The customer agreed to have this card saved for later charges (the order's customer):
    # it is charged at one processor only, under that processor's customer, and saved there
    # as it succeeds (customers.payment_methods keeps it). PaymentOutcome.saved_method says.
    save_card: bool = False
    # A bank payment (payment_method.type "bank"): the customer's mandate, required, and the
    # account as Plaid named it, when the checkout linked it.
    mandate: bank_debits.MandateInput | None = None
    linked_bank: bank_debits.LinkedBank | None = None


def _country(value: str | None, param: str) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) == 2 and value.isalpha()):
        raise ValidationFailed(f"{param} must be a two-letter ISO 3166 country code", param=param)
    return value.upper()


def _return_urls(method_type: str, data: ChargeInput) -> tuple[str | None, str | None]:
    """Where a PayPal buyer goes back after PayPal's approval page: absolute http(s) URLs, for
    PayPal only (a card's or a bank's payment has no page to come back from)."""
    if method_type != PAYPAL:
        for param, value in (("returnUrl", data.return_url), ("cancelUrl", data.cancel_url)):
            if value is not None:
                raise ValidationFailed(
                    f'{param} goes with paymentMethod.type "paypal" only', param=param
                )
        return None, None
    return (
        redirect_url(data.return_url, "returnUrl", required=False),
        redirect_url(data.cancel_url, "cancelUrl", required=False),
    )


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


# Where charge_saved_method keeps its idempotency records (not an API path: no request clashes).
SAVED_CHARGE_PATH = "service:charge_saved_method"


def charge_saved_method(
    db: Session,
    scope: Scope,
    customer_id: str,
    payment_method_id: str | None,
    amount: int,
    currency: str,
    idempotency_key: str,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    *,
    off_session: bool = True,
    actor: Actor = SYSTEM,
) -> PaymentOutcome:
    """Charge (authorize and capture) a customer's saved card, `payment_method_id` or the
    customer's default when None, in the caller's unit of work.

    The same path as every charge: validated, risk-scored, sent through routing (the card's own
    processor account, with a PaymentAttempt), booked (fees, ledger, audit, the payment.* event).
    `idempotency_key` (e.g. an invoice and its attempt number) makes retries safe: the same key
    and request within 24 hours return the payment of the first call without charging again;
    the same key for another request is a Conflict (409 idempotency_key_reused). Its processor
    key is derived from it as well, so a retry after a crash charges nothing twice.

    The outcome: `ok` when captured; otherwise `error_code` is `card_declined` (the payment
    failed, its decline code in `payment.failure_code`), `payment_blocked` (risk),
    `authentication_required` (the payment waits in requires_action for the customer to
    authenticate) or `gateway_unavailable` / `gateway_outcome_unknown` (retry with the key).
    Raises NotFound for a customer or card that is not this merchant's (or deleted, detached),
    ValidationFailed for an unusable amount, currency or card."""
    from backend.services.customers import payment_methods

    request = json.dumps(
        [customer_id, payment_method_id, amount, currency, description, metadata, off_session],
        sort_keys=True,
    )
    digest = idempotency.request_digest("POST", SAVED_CHARGE_PATH, request.encode())
    started = idempotency.claim(
        db,
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        key=idempotency_key,
        method="POST",
        path=SAVED_CHARGE_PATH,
        digest=digest,
    )
    if isinstance(started, idempotency.Replay):
        return _replayed(db, scope, started)
    customer, method = payment_methods.method_for_charge(db, scope, customer_id, payment_method_id)
    data = ChargeInput(
        payment_method=PaymentMethodInput(method.type, method.gateway_payment_method_id),
        amount=amount,
        currency=currency,
        customer_email=customer.email,
        description=description,
        metadata=metadata or {},
        idempotency_key=idempotency_key,
        saved=SavedCardCharge(
            customer.id,
            routing.route_for_saved_card(db, method),
            method.gateway_customer_id,
            off_session,
        ),
    )
    outcome = charge(db, scope, data, actor=actor)
    answer = {"payment": outcome.payment.id, "error": outcome.error_code}
    answer |= {"message": outcome.error_message, "rule": outcome.error_rule}
    status = 503 if outcome.error_code in routing.UNAVAILABLE_CODES else 200
    idempotency.finish(db, started, status=status, body=json.dumps(answer))
    return outcome


def _replayed(db: Session, scope: Scope, replay: idempotency.Replay) -> PaymentOutcome:
    """The outcome of the first call with an idempotency key, from what it stored."""
    from backend.services.payments.orders import get_payment

    answer = json.loads(replay.body)
    return PaymentOutcome(
        get_payment(db, scope, answer["payment"]),
        error_code=answer["error"],
        error_message=answer["message"],
        error_rule=answer["rule"],
    )


def _create_payment(
    db: Session, scope: Scope, data: ChargeInput, *, capture: bool, actor: Actor
) -> PaymentOutcome:
    """Validate, score, call the gateway, then write the payment with everything it created
    (order, attempts, audit rows, events) in the caller's transaction."""
    rows = NewRows()
    outcome = _payment_outcome_of(db, scope, data, capture, actor, rows)
    rows.write(db)
    if outcome.bank_debit is not None:
        db.add(outcome.bank_debit)
    return outcome


def _payment_outcome_of(
    db: Session, scope: Scope, data: ChargeInput, capture: bool, actor: Actor, rows: NewRows
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
    return_url, cancel_url = _return_urls(method.type, data)
    email = (
        normalise_email(data.customer_email, param="customerEmail") if data.customer_email else None
    )
    billing_country = _country(data.billing_country, "billingCountry")
    ip_address = risk.canonical_ip(data.ip_address)
    metadata = validate_metadata(data.metadata)
    terms = merchant_terms.terms(db, scope.merchant_id)
    mandate = None
    if method.type != "bank" and data.mandate is not None:
        raise ValidationFailed("A mandate goes with a bank payment only", param="mandate")
    if method.type == "bank":
        if not capture:
            raise ValidationFailed(
                "A bank payment cannot be authorized to capture later: charge it",
                code="capture_unsupported",
                param="paymentMethod.type",
            )
        bank_debits.check_currency(data.currency)
        mandate = bank_debits.check_mandate(data.mandate, ip_address)

    order = _order_for_payment(db, scope, data, email, actor, rows)
    if mandate is not None:
        bank_debits.check_currency(order.currency)
    email = email or order.customer_email
    saved = data.saved
    if saved is not None:
        # The card exists at this processor account only.
        routes = [replace(saved.route, reason="the card is saved at this processor")]
    else:
        routes = routing.candidate_routes(
            db,
            merchant_id=scope.merchant_id,
            livemode=scope.livemode,
            amount=order.amount,
            currency=order.currency,
            method=method.type,
            requested=data.gateway_type,
        )
    saving_for = _customer_saving(db, scope, data, order)
    gateway_customer_id = saved.gateway_customer_id if saved else None
    if saving_for is not None:
        from backend.services.customers import payment_methods

        routes = routes[:1]  # the card is saved at the processor that charges it
        gateway_customer_id = payment_methods.gateway_customer(db, saving_for, routes[0])
    # Card details come from the first processor that is not known to be down: one whose
    # circuit is open is never called, not even for this lookup.
    card = routing.first_closed(db, routes, scope.livemode).gateway.card_details(method.token)

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
        return_url=return_url,
        cancel_url=cancel_url,
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
        booking.fail(db, payment, "risk_blocked", message, actor, rows)
        return PaymentOutcome(payment, "payment_blocked", message, error_rule=assessment.rule)

    request = PaymentRequest(
        amount=order.amount,
        currency=order.currency,
        payment_method_type=method.type,
        payment_method_token=method.token,
        capture=capture,
        idempotency_key=gateway_key(scope, data.idempotency_key, payment.id, "create"),
        description=data.description,
        customer_email=email,
        metadata={"payment_id": payment.id, "order_id": order.id, **metadata},
        gateway_customer_id=gateway_customer_id,
        off_session=saved.off_session if saved else False,
        return_url=return_url,
        cancel_url=cancel_url,
        setup_future_usage=saving_for is not None,
        mandate=(
            MandateAcceptance(mandate.accepted_at or now, mandate.ip_address, mandate.user_agent)
            if mandate
            else None
        ),
    )
    try:
        route, result = routing.with_failover(
            routes,
            lambda g: g.create_payment(request),
            attempt_recorder(db, payment, "authorize" if not capture else "charge", rows),
            outcome_of,
            health=routing.Health(db, scope.livemode),
        )
    except routing.AllGatewaysUnavailable as exc:
        booking.fail(db, payment, exc.code, exc.message, actor, rows)
        return PaymentOutcome(payment, exc.code, exc.message)

    payment.gateway = route.name
    payment.gateway_config_id = route.config_id
    payment.gateway_payment_id = result.gateway_payment_id
    if result.card is not None:
        _store_card(payment, result.card)
    outcome = _apply_result(
        db, terms.platform_fees, order, payment, result, route.fees, actor, rows
    )
    if mandate is not None:
        # The sandbox sends no events: the settle job asks it until the debit can no longer
        # change. Stripe's events bring its outcome.
        debit = bank_debits.new_debit(
            payment, result, mandate, data.linked_bank, poll=route.name == "sandbox"
        )
        outcome = replace(outcome, bank_debit=debit)
    if saving_for is not None and outcome.ok and result.saved_payment_method_id:
        from backend.services.customers import payment_methods

        kept = payment_methods.record_saved_while_paying(
            db,
            scope,
            saving_for,
            route,
            gateway_customer_id or "",
            result.saved_payment_method_id,
            result.card or card,
            authentication_required=result.saved_authentication_required,
            actor=actor,
        )
        outcome = replace(outcome, saved_method=kept.id)
    return outcome


def _customer_saving(db: Session, scope: Scope, data: ChargeInput, order: Order) -> Customer | None:
    """The customer a card is saved for (save_card): the order's."""
    if not data.save_card:
        return None
    if data.saved is not None:
        raise ValidationFailed("A saved card is saved already", param="paymentMethod")
    if order.customer_id is None:
        raise ValidationFailed(
            "A card is saved for a customer: the order has none (give an e-mail)",
            param="customerEmail",
        )
    from backend.services.customers import records

    return records.get_customer(db, scope, order.customer_id, lock=True)


def _order_for_payment(
    db: Session, scope: Scope, data: ChargeInput, email: str | None, actor: Actor, rows: NewRows
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
    return new_order(
        db,
        scope,
        rows,
        amount=data.amount,
        currency=data.currency,
        customer_email=email,
        actor=actor,
        customer_id=data.saved.customer_id if data.saved else None,
    )


def _apply_result(
    db: Session,
    platform_fees: FeeSchedule,
    order: Order,
    payment: Payment,
    result: PaymentResult,
    gateway_fees: FeeSchedule,
    actor: Actor,
    rows: NewRows | None = None,
) -> PaymentOutcome:
    now = utcnow()
    bank = payment.payment_method_type == "bank"
    if result.outcome == Outcome.DECLINED:
        code = result.decline_code or "card_declined"
        if bank:
            message = result.message or bank_debits.return_reason(code)
            booking.fail(db, payment, code, message, actor, rows)
            return PaymentOutcome(payment, "bank_debit_failed", message)
        message = result.message or "The card was declined."
        booking.fail(db, payment, code, message, actor, rows)
        return PaymentOutcome(payment, "card_declined", message)

    if result.outcome == Outcome.PROCESSING:
        booking.process(db, payment, platform_fees, gateway_fees, actor, rows)
        return PaymentOutcome(payment)

    if result.outcome == Outcome.REQUIRES_ACTION:
        code = result.decline_code  # authentication_required: a charge without the customer
        booking.require_action(db, payment, platform_fees, gateway_fees, actor, rows, code=code)
        if code:
            return PaymentOutcome(payment, code, result.message)
        return PaymentOutcome(payment)

    if result.outcome == Outcome.AUTHORIZED:
        booking.authorize(
            db, payment, payment.amount, platform_fees, gateway_fees, actor, now, rows
        )
    else:
        booking.capture(
            db, order, payment, payment.amount, platform_fees, gateway_fees, actor, now, rows
        )
    return PaymentOutcome(payment, dispute_expected=result.dispute_expected)


def _store_card(payment: Payment, card: Any) -> None:
    payment.card_brand = card.brand
    payment.card_last4 = card.last4
    payment.card_exp_month = card.exp_month
    payment.card_exp_year = card.exp_year
    payment.card_fingerprint = card.fingerprint
    payment.card_country = card.country
    payment.card_wallet = card.wallet


def outcome_of(result: PaymentResult) -> tuple[str, str | None, str | None]:
    return result.outcome.value, result.decline_code, result.message


def attempt_recorder(
    db: Session, payment: Payment, operation: str, rows: NewRows | None = None
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
            "route_reason": (route.reason or "")[:500] or None,
        }
        if rows is None:
            db.add(PaymentAttempt(**values))
        else:
            rows.attempts.append(new_row(PaymentAttempt, **values))

    return record


def gateway_key(scope: Scope, idempotency_key: str | None, payment_id: str, op: str) -> str:
    """Retries of one API request (same Idempotency-Key) reach the gateway with one key."""
    if idempotency_key:
        raw = f"{scope.merchant_id}:{int(scope.livemode)}:{idempotency_key}:{op}"
        return "pp_" + hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"{payment_id}:{op}"
