"""Cards saved for a customer: attach (save), list, detach, the default, and finding the card
a charge is for.

A card is saved at one processor account (routing picks it, as for a payment: the merchant's
first enabled processor that takes cards, or the platform's default), under that processor's
customer for ours, which is made once per processor account and kept on the customer
(`Customer.gateway_customer_ids`), even when the card is refused. Only brand, last four, expiry,
country and fingerprint are stored. A saved card is charged at the processor it was saved at
only (`backend.services.payments.charges.charge_saved_method`).

The default: the first card saved becomes the customer's default; detaching the default makes
the newest card left the default (none when none is left); `set_default` picks another.

Events: `payment_method.attached`, `payment_method.detached` (with `customer.updated` when the
default changed), each with its audit row, in the caller's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways.base import CardDetails, GatewayUnavailable
from backend.models import Customer, PaymentMethod, utcnow
from backend.services import events
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.customers import records
from backend.services.paging import keyset_page
from backend.services.payments import charges, routing
from backend.services.representations import payment_method_to_dict

log = logging.getLogger(__name__)

TOKEN_LENGTH = 255


@dataclass(frozen=True)
class AttachOutcome:
    """A saved card, or why the issuer refused to save it (no money moved either way)."""

    payment_method: PaymentMethod | None
    error_code: str | None = None  # card_declined
    decline_code: str | None = None  # the issuer's reason: card_declined, expired_card...
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


def attach(
    db: Session,
    scope: Scope,
    customer_id: str,
    *,
    type: str,
    token: str,
    gateway_type: str | None = None,
    idempotency_key: str | None = None,
    actor: Actor = SYSTEM,
) -> AttachOutcome:
    """Save the card `token` stands for (sandbox: a test card number or pm_card_ token;
    Stripe: a PaymentMethod id from Stripe.js) for the customer, ready for charges without
    the customer (off session). The processor customer made on the way is kept even when the
    card is refused, so commit the transaction whatever the outcome."""
    if type not in routing.PAYMENT_METHOD_TYPES:
        raise ValidationFailed(
            f"type must be one of: {', '.join(routing.PAYMENT_METHOD_TYPES)}",
            param="paymentMethod.type",
        )
    if not isinstance(token, str) or not token.strip() or len(token) > TOKEN_LENGTH:
        raise ValidationFailed("A card token is required", param="paymentMethod.token")
    customer = records.get_customer(db, scope, customer_id, lock=True)
    route = routing.candidate_routes(
        db,
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        amount=None,
        currency=None,
        method=type,
        requested=gateway_type,
    )[0]
    method_id = new_id("pm")
    try:
        gateway_customer_id = gateway_customer(db, customer, route)
        result = route.gateway.save_card(
            gateway_customer_id,
            token.strip(),
            idempotency_key=charges.gateway_key(scope, idempotency_key, method_id, "setup"),
        )
    except GatewayUnavailable as exc:
        raise routing.AllGatewaysUnavailable(
            f"The payment processor could not be reached; nothing was saved. Try again shortly. "
            f"({route.name}: {exc.message})"
        ) from exc
    if not result.saved:
        code = result.decline_code or "card_declined"
        return AttachOutcome(None, "card_declined", code, result.message)
    card = result.card
    method = PaymentMethod(
        id=method_id,
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer.id,
        type=type,
        gateway=route.name,
        gateway_config_id=route.config_id,
        gateway_customer_id=gateway_customer_id,
        gateway_payment_method_id=result.gateway_payment_method_id,
        brand=card.brand if card else None,
        last4=card.last4 if card else None,
        exp_month=card.exp_month if card else None,
        exp_year=card.exp_year if card else None,
        fingerprint=card.fingerprint if card else None,
        country=card.country if card else None,
        authentication_required=result.authentication_required,
    )
    db.add(method)
    db.flush()
    _method_changed(db, method, "payment_method.attached", actor)
    if customer.default_payment_method_id is None:
        _new_default(db, customer, method.id, actor)
    return AttachOutcome(method)


def record_saved_while_paying(
    db: Session,
    scope: Scope,
    customer: Customer,
    route: routing.Route,
    gateway_customer_id: str,
    gateway_payment_method_id: str,
    card: CardDetails | None,
    *,
    authentication_required: bool = False,
    actor: Actor = SYSTEM,
) -> PaymentMethod:
    """A card the processor saved for the customer while charging it (the checkout's "save
    for future payments", the customer's consent given on the page): kept as `attach` keeps
    one, with its events, the customer's default when it has none."""
    method = PaymentMethod(
        id=new_id("pm"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer.id,
        type="card",
        gateway=route.name,
        gateway_config_id=route.config_id,
        gateway_customer_id=gateway_customer_id,
        gateway_payment_method_id=gateway_payment_method_id,
        brand=card.brand if card else None,
        last4=card.last4 if card else None,
        exp_month=card.exp_month if card else None,
        exp_year=card.exp_year if card else None,
        fingerprint=card.fingerprint if card else None,
        country=card.country if card else None,
        authentication_required=authentication_required,
    )
    db.add(method)
    db.flush()
    _method_changed(db, method, "payment_method.attached", actor)
    if customer.default_payment_method_id is None:
        _new_default(db, customer, method.id, actor)
    return method


def list_methods(
    db: Session, scope: Scope, customer_id: str, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[PaymentMethod], str | None]:
    """The customer's saved cards, newest first (detached ones are not listed)."""
    customer = records.get_customer(db, scope, customer_id)
    return keyset_page(db, scope, PaymentMethod, _attached_to(customer), limit, cursor)


def saved_methods(db: Session, customer: Customer) -> list[PaymentMethod]:
    """Every card saved for the customer now, newest first (for a page that shows them all)."""
    query = _attached_to(customer).order_by(
        col(PaymentMethod.created_at).desc(), col(PaymentMethod.id).desc()
    )
    return list(db.exec(query))


def detach(
    db: Session,
    scope: Scope,
    customer_id: str,
    payment_method_id: str,
    *,
    actor: Actor = SYSTEM,
) -> PaymentMethod:
    """Remove a saved card at its processor and here: it can no longer be charged. The row is
    kept (`detached_at`) for the history of its payments."""
    customer = records.get_customer(db, scope, customer_id, lock=True)
    method = _attached(db, customer, payment_method_id, param="paymentMethodId")
    try:
        _detach_at_processor(db, method)
    except GatewayUnavailable as exc:
        raise routing.AllGatewaysUnavailable(
            f"The payment processor could not be reached; the card is still saved. Try again "
            f"shortly. ({method.gateway}: {exc.message})"
        ) from exc
    _detached(db, customer, method, actor)
    return method


def detach_all(db: Session, customer: Customer, *, actor: Actor = SYSTEM) -> None:
    """Every card of a customer being deleted. A processor that cannot be reached keeps its
    card, but nothing of ours can charge it any more (it is detached here all the same)."""
    for method in saved_methods(db, customer):
        try:
            _detach_at_processor(db, method)
        except (GatewayUnavailable, ValidationFailed) as exc:
            log.warning("card %s left at %s: %s", method.id, method.gateway, exc)
        _detached(db, customer, method, actor, new_default=False)


def set_default(db: Session, customer: Customer, payment_method_id: str | None) -> None:
    """Make one of the customer's saved cards its default (None: no default). The caller
    writes the customer's change (records.update_customer)."""
    if payment_method_id is not None:
        _attached(db, customer, payment_method_id, param="defaultPaymentMethod")
    customer.default_payment_method_id = payment_method_id


def method_for_charge(
    db: Session, scope: Scope, customer_id: str, payment_method_id: str | None
) -> tuple[Customer, PaymentMethod]:
    """The customer and the saved card a charge is for: `payment_method_id`, or the customer's
    default when None. Deleted customers and detached cards are not found."""
    customer = records.get_customer(db, scope, customer_id)
    if payment_method_id is None:
        payment_method_id = customer.default_payment_method_id
        if payment_method_id is None:
            raise ValidationFailed(
                f"Customer {customer.id} has no default payment method: save a card first",
                code="payment_method_missing",
                param="paymentMethod",
            )
    return customer, _attached(db, customer, payment_method_id, param="paymentMethod")


# -- the parts -----------------------------------------------------------------------------


def _attached_to(customer: Customer):  # type: ignore[no-untyped-def]
    return select(PaymentMethod).where(
        PaymentMethod.customer_id == customer.id,
        PaymentMethod.merchant_id == customer.merchant_id,
        PaymentMethod.livemode == customer.livemode,
        col(PaymentMethod.detached_at).is_(None),
    )


def _attached(
    db: Session, customer: Customer, payment_method_id: str, *, param: str
) -> PaymentMethod:
    found = db.exec(_attached_to(customer).where(PaymentMethod.id == payment_method_id)).first()
    if found is None:
        raise NotFound(
            f"No such payment method for customer {customer.id}: {payment_method_id!r}",
            param=param,
        )
    return found


def gateway_customer(db: Session, customer: Customer, route: routing.Route) -> str:
    """Our customer at the route's processor account, made there the first time."""
    key = routing.route_key(route)
    known = (customer.gateway_customer_ids or {}).get(key)
    if known:
        return known
    made = route.gateway.create_customer(
        email=customer.email,
        name=customer.name,
        reference=customer.id,
        # A retry (after a lost answer) finds the customer made the first time.
        idempotency_key=f"{customer.id}:{key}:customer",
    )
    customer.gateway_customer_ids = {**(customer.gateway_customer_ids or {}), key: made}
    db.add(customer)
    db.flush()
    return made


def _detach_at_processor(db: Session, method: PaymentMethod) -> None:
    route = routing.route_for_saved_card(db, method, for_charge=False)
    route.gateway.detach_card(
        method.gateway_payment_method_id, idempotency_key=f"{method.id}:detach"
    )


def _detached(
    db: Session,
    customer: Customer,
    method: PaymentMethod,
    actor: Actor,
    *,
    new_default: bool = True,
) -> None:
    method.detached_at = utcnow()
    db.add(method)
    db.flush()
    _method_changed(db, method, "payment_method.detached", actor)
    if new_default and customer.default_payment_method_id == method.id:
        remaining = saved_methods(db, customer)
        _new_default(db, customer, remaining[0].id if remaining else None, actor)


def _new_default(db: Session, customer: Customer, method_id: str | None, actor: Actor) -> None:
    customer.default_payment_method_id = method_id
    customer.updated_at = utcnow()
    db.add(customer)
    db.flush()
    records.record_change(db, customer, "customer.updated", actor)


def _method_changed(db: Session, method: PaymentMethod, type: str, actor: Actor) -> None:
    data = payment_method_to_dict(method)
    details = {"customer": method.customer_id}
    events.changed(db, actor, type, method, "payment_method", data, details)
