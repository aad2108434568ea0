"""PayPal's events applied to our payments and refunds, through the one booking path
(backend.services.payments.booking), as stripe_handlers does for Stripe's.

Every PayPal event is stored with provider "paypal:<gateway config id>" (the processor whose
webhook id verified it) and touches only payments that processor took, in its mode.

==============================  ===============================================================
Event                           What it does
==============================  ===============================================================
CHECKOUT.ORDER.APPROVED         The buyer approved at PayPal but may never come back to our
                                page: finish the payment as the checkout's return would
                                (authentication.finish: capture or authorize at PayPal with the
                                order's own PayPal-Request-Id, then book it). Already finished:
                                nothing. PayPal unreachable: retried later.
PAYMENT.CAPTURE.COMPLETED       Book the capture, unless already booked.
PAYMENT.CAPTURE.DENIED          Fail a payment not yet captured.
PAYMENT.CAPTURE.REFUNDED        Create, confirm or reverse our refund, keyed by PayPal's refund
                                id (a refund made through our API is found by that id; one made
                                in PayPal's dashboard needs the order id in its custom_id).
anything else                   Ignored, with the reason.
==============================  ===============================================================

Replays are no-ops: each handler checks the state first, and refunds are keyed by PayPal's ids.
An event older than what a payment or refund already reflects (gateway_synced_at) changes
nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from backend.core.errors import Conflict
from backend.gateways.paypal.gateway import from_value
from backend.gateways.paypal.webhooks import parse_time
from backend.models import InboundWebhookEvent, Payment, Refund
from backend.models.enums import ActorType, InboundEventStatus, RefundStatus
from backend.models.enums import PaymentStatus as P
from backend.services.context import Actor
from backend.services.payments import authentication, booking, orders, routing, state_machine
from backend.services.payments.booking import BOOKED_REFUND
from backend.services.webhooks.inbound.handling import Defer, Ignore

log = logging.getLogger(__name__)

PROVIDER = "paypal"
S = InboundEventStatus
CAPTURED = state_machine.CAPTURED


def is_paypal(provider: str) -> bool:
    return provider.startswith(PROVIDER + ":")


@dataclass(frozen=True)
class _Event:
    db: Session
    row: InboundWebhookEvent
    resource: dict[str, Any]
    created: datetime
    actor: Actor
    source: str  # the gateway config whose webhook id verified the event


def apply(db: Session, row: InboundWebhookEvent) -> tuple[S, str | None]:
    handler = HANDLERS.get(row.event_type)
    if handler is None:
        return S.IGNORED, f"{row.event_type} events are not used"
    data = json.loads(row.payload)
    created = parse_time(data.get("create_time"))
    resource = data.get("resource")
    if created is None or not isinstance(resource, dict):
        return S.IGNORED, "not a PayPal event (create_time, resource)"
    event = _Event(
        db,
        row,
        resource,
        created,
        Actor(ActorType.WEBHOOK, row.event_id),
        row.provider.partition(":")[2],
    )
    try:
        with db.begin_nested():  # an Ignore undoes whatever the handler had started
            note = handler(event)
    except Ignore as reason:
        return S.IGNORED, str(reason)
    log.info("paypal webhook %s %s: %s", row.event_type, row.event_id, note)
    return S.PROCESSED, None


# -- finding our payments


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _order_of(resource: dict[str, Any]) -> str | None:
    """The order a capture or authorization belongs to (supplementary_data.related_ids)."""
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    return _text(related.get("order_id")) if isinstance(related, dict) else None


def _payment(ev: _Event, order_id: str | None, ours: str | None = None, *, lock=True) -> Payment:
    """Our payment of a PayPal order, row-locked: by the order id, else by our payment id
    (custom_id) when the creation's answer was lost before we learnt the order id."""
    db = ev.db
    payment = None
    if order_id:
        query = select(Payment).where(
            Payment.gateway == PROVIDER, Payment.gateway_payment_id == order_id
        )
        payment = db.exec(query.with_for_update() if lock else query).first()
    if payment is None and ours and ours.startswith("pay_"):
        query = select(Payment).where(Payment.id == ours)
        payment = db.exec(query.with_for_update() if lock else query).first()
        if payment is None:
            raise Defer(f"payment {ours} of PayPal order {order_id} is not stored yet")
        if payment.gateway != PROVIDER or payment.gateway_payment_id not in (None, order_id):
            raise Ignore(f"payment {ours} belongs to another gateway object than {order_id}")
    if payment is None:
        raise Ignore(f"no payment for PayPal order {order_id}: not created by this platform")
    if payment.gateway_config_id != ev.source:
        raise Ignore(f"payment {payment.id} was not taken through processor {ev.source}")
    if payment.gateway_payment_id is None and order_id:
        payment.gateway_payment_id = order_id
    return payment


def _stale(synced: datetime | None, ev: _Event) -> bool:
    return synced is not None and ev.created < synced


def _synced(obj: Payment | Refund, ev: _Event) -> None:
    if obj.gateway_synced_at is None or ev.created > obj.gateway_synced_at:
        obj.gateway_synced_at = ev.created
    ev.db.add(obj)


def _fresh(ev: _Event, payment: Payment) -> Payment:
    if _stale(payment.gateway_synced_at, ev):
        raise Ignore(f"stale: payment {payment.id} already reflects a later PayPal event")
    return payment


def _amount(ev: _Event, payment: Payment) -> int:
    amount = ev.resource.get("amount") or {}
    currency = str(amount.get("currency_code") or "")
    if currency.upper() != payment.currency:
        raise Conflict(f"PayPal reports {currency!r} for payment {payment.id}")
    try:
        return from_value(str(amount.get("value")), payment.currency)
    except ValueError:
        raise Conflict(f"PayPal reports an unreadable amount for {payment.id}") from None


# -- handlers


def _on_order_approved(ev: _Event) -> str:
    """Finish the approved payment in the same order of locks as the hosted checkout (its
    session, then the payment), so the two can never both capture it."""
    order_id = _text(ev.resource.get("id"))
    units = ev.resource.get("purchase_units") or [{}]
    ours = _text(units[0].get("custom_id")) if units and isinstance(units[0], dict) else None
    found = _payment(ev, order_id, ours, lock=False)
    session_id = (found.metadata_ or {}).get("checkout_session_id")
    if isinstance(session_id, str):
        from backend.services.checkout.session_state import lock_session

        lock_session(ev.db, session_id)
    payment = _payment(ev, order_id, ours)
    ev.db.refresh(payment)
    if payment.status != P.REQUIRES_ACTION:
        return f"payment {payment.id} is {payment.status}: nothing to finish"
    finished = authentication.finish(ev.db, payment, None, ev.actor)
    if finished.outcome == authentication.UNAVAILABLE:
        raise Defer(f"PayPal could not be asked to finish order {order_id}; retrying")
    _synced(payment, ev)
    return f"payment {payment.id} finished on approval: {finished.outcome}"


def _on_capture_completed(ev: _Event) -> str:
    payment = _fresh(ev, _payment(ev, _order_of(ev.resource), _text(ev.resource.get("custom_id"))))
    amount = _amount(ev, payment)
    if payment.status in CAPTURED:
        note = f"payment {payment.id} already captured"
    elif not state_machine.can_move(payment.status, P.SUCCEEDED, state_machine.PAYMENT_TRANSITIONS):
        raise Conflict(
            f"PayPal reports payment {payment.id} captured, but it is {payment.status}",
            code="gateway_discrepancy",
        )
    else:
        platform = booking.platform_fees(ev.db, payment.merchant_id)
        fees = routing.fees_for_payment(ev.db, payment)
        order = orders.payable_order(ev.db, payment)
        booking.capture(ev.db, order, payment, amount, platform, fees, ev.actor, ev.created)
        note = f"payment {payment.id} captured {amount}"
    _synced(payment, ev)
    return note


def _on_capture_denied(ev: _Event) -> str:
    payment = _fresh(ev, _payment(ev, _order_of(ev.resource), _text(ev.resource.get("custom_id"))))
    if payment.status == P.FAILED:
        return f"payment {payment.id} already failed"
    if not state_machine.can_move(payment.status, P.FAILED, state_machine.PAYMENT_TRANSITIONS):
        raise Ignore(f"payment {payment.id} is {payment.status}: a denial cannot undo that")
    booking.fail(ev.db, payment, "card_declined", "PayPal declined the payment.", ev.actor)
    _synced(payment, ev)
    return f"payment {payment.id} failed: capture denied"


_REFUND_STATUS = {
    "PENDING": RefundStatus.PENDING,
    "COMPLETED": RefundStatus.SUCCEEDED,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.CANCELED,
}


def _on_capture_refunded(ev: _Event) -> str:
    """The resource is the refund. Its payment is locked first (a refund our API is making
    holds that lock until it commits its row), then the refund is found by PayPal's id."""
    refund = ev.resource
    refund_id = _text(refund.get("id"))
    target = _REFUND_STATUS.get(str(refund.get("status")))
    if refund_id is None or target is None:
        raise Conflict(f"PayPal refund {refund_id} has an unknown status {refund.get('status')}")
    custom = _text(refund.get("custom_id"))
    if custom is None:
        known = ev.db.exec(select(Refund).where(Refund.gateway_refund_id == refund_id)).first()
        if known is None:
            raise Ignore(
                f"PayPal refund {refund_id} names no order (made in PayPal's dashboard?): "
                "reconcile it by hand"
            )
        payment = ev.db.get(Payment, known.payment_id, with_for_update=True)
        assert payment is not None
        if payment.gateway_config_id != ev.source:
            raise Ignore(f"payment {payment.id} was not taken through processor {ev.source}")
    else:
        payment = _payment(ev, custom, custom)
    if payment.status not in CAPTURED:
        raise Defer(f"payment {payment.id} is {payment.status}: waiting for its capture")
    record = ev.db.exec(
        select(Refund).where(Refund.gateway_refund_id == refund_id).with_for_update()
    ).first()
    if record is None:
        return _new_refund(ev, payment, refund_id, target)
    if record.payment_id != payment.id:
        raise Conflict(f"PayPal refund {refund_id} is booked on payment {record.payment_id}")
    if _stale(record.gateway_synced_at, ev):
        return f"refund {record.id}: stale snapshot left alone"
    _synced(record, ev)
    if record.status == target:
        return f"refund {record.id} already {target}"
    if record.status == RefundStatus.PENDING and target == RefundStatus.SUCCEEDED:
        booking.confirm_refund(ev.db, payment, record, ev.actor)
        return f"refund {record.id} confirmed"
    if record.status in BOOKED_REFUND and target in (RefundStatus.FAILED, RefundStatus.CANCELED):
        reason = (refund.get("status_details") or {}).get("reason")
        booking.reverse_refund(ev.db, payment, record, target, reason, ev.actor)
        return f"refund {record.id} {target}: booking reversed"
    return f"refund {record.id} is {record.status}; PayPal's {target} cannot move it back"


def _new_refund(ev: _Event, payment: Payment, refund_id: str, target: RefundStatus) -> str:
    """A refund whose API call's answer was lost, or made at PayPal with the order named."""
    amount = _amount(ev, payment)
    if target in BOOKED_REFUND and amount > payment.amount_captured - payment.amount_refunded:
        raise Conflict(
            f"PayPal refund {refund_id} of {amount} exceeds what remains of {payment.id}"
        )
    record = booking.new_refund(
        payment, amount, reason=None, gateway_refund_id=refund_id, synced_at=ev.created
    )
    ev.db.add(record)
    ev.db.flush()
    if target in BOOKED_REFUND:
        booking.book_refund(
            ev.db, payment, record, ev.actor, pending=target == RefundStatus.PENDING
        )
        return f"refund {record.id} of {amount} booked ({target})"
    booking.record_unbooked_refund(ev.db, payment, record, target, None, ev.actor, new=True)
    return f"refund {record.id} recorded as {target}"


HANDLERS: dict[str, Callable[[_Event], str]] = {
    "CHECKOUT.ORDER.APPROVED": _on_order_approved,
    "PAYMENT.CAPTURE.COMPLETED": _on_capture_completed,
    "PAYMENT.CAPTURE.DENIED": _on_capture_denied,
    "PAYMENT.CAPTURE.REFUNDED": _on_capture_refunded,
}
