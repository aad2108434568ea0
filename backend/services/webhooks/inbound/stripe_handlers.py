"""Stripe's events applied to our payments, refunds and disputes, through the one booking path
(backend.services.payments.booking).

Events arrive late, twice and out of order. Handlers are idempotent (refunds and disputes are
keyed by their Stripe ids) and never move an object backwards: a payment's, refund's or
dispute's gateway_synced_at holds the `created` time of the newest event applied to it, an older
event leaves it as it is, and the state machine refuses any other backward move. An event that
needs an earlier one (a refund seen before the payment's success) waits by being retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from backend.core.errors import Conflict
from backend.gateways.base import DisputeStage, EvidenceKind, Outcome, PaymentResult
from backend.gateways.stripe_gateway import (
    ach_return_code,
    decline_code,
    decline_message,
    dispute_stage,
    payout_from_event,
)
from backend.models import (
    Dispute,
    DisputeEvidenceFile,
    GatewayConfig,
    InboundWebhookEvent,
    Payment,
    Refund,
)
from backend.models.enums import (
    ActorType,
    DisputeStatus,
    InboundEventStatus,
    PaymentStatus,
    RefundStatus,
)
from backend.services.context import Actor
from backend.services.payments import (
    bank_debits,
    booking,
    gateway_configs,
    orders,
    routing,
    state_machine,
)
from backend.services.payments.booking import BOOKED_REFUND
from backend.services.payments.fees import FeeSchedule
from backend.services.reconciliation import stripe_import
from backend.services.webhooks.inbound.handling import Defer, Ignore
from backend.services.webhooks.inbound.receive import PROVIDER, source_of

log = logging.getLogger(__name__)

S = InboundEventStatus
P = PaymentStatus
CAPTURED = state_machine.CAPTURED


# ---------------------------------------------------------------------------------------------
# Applying events to payments, refunds and disputes


@dataclass(frozen=True)
class _Event:
    db: Session
    row: InboundWebhookEvent
    obj: dict[str, Any]  # data.object: the Stripe object as it was at `created`
    created: datetime
    actor: Actor


def apply(db: Session, row: InboundWebhookEvent) -> tuple[S, str | None]:
    handler = HANDLERS.get(row.event_type)
    if handler is None:
        return S.IGNORED, f"{row.event_type} events are not used"
    data = json.loads(row.payload)
    event = _Event(
        db,
        row,
        data["data"]["object"],
        datetime.fromtimestamp(data["created"], UTC),
        Actor(ActorType.WEBHOOK, row.event_id),
    )
    try:
        with db.begin_nested():  # an Ignore undoes whatever the handler had started
            note = handler(event)
    except Ignore as reason:
        return S.IGNORED, str(reason)
    log.info("webhook %s %s: %s", row.event_type, row.event_id, note)
    return S.PROCESSED, None


# -- finding our objects


def _payment(ev: _Event, intent_id: str | None, metadata: dict[str, Any] | None = None) -> Payment:
    """Our payment for a PaymentIntent, row-locked: by its id, else by the payment_id our API
    put in its metadata (a creation that timed out never learnt the PaymentIntent's id)."""
    db = ev.db
    payment = None
    if intent_id:
        payment = db.exec(
            select(Payment)
            .where(Payment.gateway == PROVIDER, Payment.gateway_payment_id == intent_id)
            .with_for_update()
        ).first()
    ours = (metadata or {}).get("payment_id")
    if payment is None and isinstance(ours, str):
        payment = db.exec(select(Payment).where(Payment.id == ours).with_for_update()).first()
        if payment is None:
            # Ours by its metadata: its creating transaction may not have committed yet.
            raise Defer(f"payment {ours} of PaymentIntent {intent_id} is not stored yet")
        if payment.gateway != PROVIDER or payment.gateway_payment_id not in (None, intent_id):
            raise Ignore(f"payment {ours} belongs to another gateway object than {intent_id}")
        payment.gateway_payment_id = intent_id
    if payment is None:
        raise Ignore(f"no payment for PaymentIntent {intent_id}: not created by this platform")
    _same_source(ev, payment)
    if payment.livemode != ev.row.livemode:
        raise Ignore(f"a {_mode(ev.row.livemode)} event for {_mode(payment.livemode)} {payment.id}")
    return payment


def _same_source(ev: _Event, payment: Payment) -> None:
    """An event touches only payments its Stripe account took: a merchant's account only the
    payments of its processor, the platform's account only payments not taken with a
    merchant's own key."""
    source = source_of(ev.row.provider)
    if source is not None:
        if payment.gateway_config_id != source:
            raise Ignore(f"payment {payment.id} was not taken through processor {source}")
        return
    if payment.gateway_config_id is not None:
        config = ev.db.get(GatewayConfig, payment.gateway_config_id)
        if config is not None and gateway_configs.is_own_account(config):
            raise Ignore(f"payment {payment.id} belongs to the merchant's own Stripe account")


def _mode(livemode: bool) -> str:
    return "live" if livemode else "test"


def _captured_payment(ev: _Event, intent_id: str | None) -> Payment:
    """The payment a refund or dispute belongs to, which must be captured already."""
    payment = _payment(ev, intent_id)
    if payment.status not in CAPTURED:
        raise Defer(
            f"payment {payment.id} is {payment.status}: waiting for the event of its capture"
        )
    return payment


def _stale(synced: datetime | None, ev: _Event) -> bool:
    return synced is not None and ev.created < synced


def _synced(obj: Payment | Refund | Dispute, ev: _Event) -> None:
    if obj.gateway_synced_at is None or ev.created > obj.gateway_synced_at:
        obj.gateway_synced_at = ev.created
    ev.db.add(obj)


def _fresh_payment(ev: _Event, intent_id: str | None, metadata: Any = None) -> Payment:
    payment = _payment(ev, intent_id, metadata)
    if _stale(payment.gateway_synced_at, ev):
        raise Ignore(
            f"stale: payment {payment.id} already reflects Stripe as of "
            f"{payment.gateway_synced_at.isoformat()}"
        )
    return payment


# -- payments


def _capture(ev: _Event, payment: Payment, amount: int) -> str:
    if payment.status in CAPTURED:
        return f"payment {payment.id} already captured"
    if not state_machine.can_move(payment.status, P.SUCCEEDED, state_machine.PAYMENT_TRANSITIONS):
        raise Conflict(
            f"Stripe reports payment {payment.id} succeeded, but it is {payment.status}",
            code="gateway_discrepancy",
        )
    platform, gateway = _fee_schedules(ev.db, payment)
    order = orders.payable_order(ev.db, payment)
    booking.capture(ev.db, order, payment, amount, platform, gateway, ev.actor, ev.created)
    return f"payment {payment.id} captured {amount}"


def _authorize(ev: _Event, payment: Payment, amount: int) -> str:
    if payment.status == P.AUTHORIZED or payment.status in CAPTURED:
        return f"payment {payment.id} already authorized"
    if not state_machine.can_move(payment.status, P.AUTHORIZED, state_machine.PAYMENT_TRANSITIONS):
        raise Conflict(
            f"Stripe reports payment {payment.id} authorized, but it is {payment.status}",
            code="gateway_discrepancy",
        )
    platform, gateway = _fee_schedules(ev.db, payment)
    booking.authorize(ev.db, payment, amount, platform, gateway, ev.actor, ev.created)
    return f"payment {payment.id} authorized {amount}"


def _fail(ev: _Event, payment: Payment, code: str, message: str) -> str:
    if payment.payment_method_type == "bank":
        return _bank_failed(ev, payment, code)
    if payment.status == P.FAILED:
        return f"payment {payment.id} already failed"
    if not state_machine.can_move(payment.status, P.FAILED, state_machine.PAYMENT_TRANSITIONS):
        raise Ignore(f"payment {payment.id} is {payment.status}: a failure cannot undo that")
    booking.fail(ev.db, payment, code, message, ev.actor)
    return f"payment {payment.id} failed: {code}"


def _bank_failed(ev: _Event, payment: Payment, stripe_code: str) -> str:
    """A bank debit failed while processing, or was returned after it succeeded (Stripe then
    sends charge.failed and payment_intent.payment_failed for the succeeded payment): its ACH
    return code decides, booked once through bank_debits.settle."""
    code = ach_return_code(stripe_code)
    result = PaymentResult(Outcome.DECLINED, payment.gateway_payment_id, decline_code=code)
    return bank_debits.settle(ev.db, payment, result, ev.actor, ev.created)


def _on_intent_processing(ev: _Event) -> str:
    """A bank debit was sent: ours is processing already (it was answered so), or becomes so
    when the answer to its creation was lost."""
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    note = f"payment {payment.id} is {payment.status}"
    if payment.status == P.REQUIRES_PAYMENT_METHOD:
        platform, gateway = _fee_schedules(ev.db, payment)
        booking.process(ev.db, payment, platform, gateway, ev.actor)
        note = f"payment {payment.id} processing"
    _synced(payment, ev)
    return note


def _void(ev: _Event, payment: Payment) -> str:
    if payment.status == P.VOIDED:
        return f"payment {payment.id} already voided"
    if not state_machine.can_move(payment.status, P.VOIDED, state_machine.PAYMENT_TRANSITIONS):
        raise Ignore(f"payment {payment.id} is {payment.status}: a cancellation cannot undo that")
    booking.void(ev.db, payment, ev.actor, ev.created)
    return f"payment {payment.id} voided"


def _fee_schedules(db: Session, payment: Payment) -> tuple[FeeSchedule, FeeSchedule]:
    """The platform's price now and the price of the processor that took the payment."""
    return booking.platform_fees(db, payment.merchant_id), routing.fees_for_payment(db, payment)


def _on_intent_created(ev: _Event) -> str:
    payment = _payment(ev, ev.obj.get("id"), ev.obj.get("metadata"))
    return f"PaymentIntent of payment {payment.id} created"


def _on_intent_succeeded(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    note = _capture(ev, payment, intent.get("amount_received") or intent["amount"])
    _synced(payment, ev)
    return note


def _on_intent_failed(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    error = intent.get("last_payment_error") or {}
    code = decline_code(error.get("code"), error.get("decline_code"))
    note = _fail(ev, payment, code, decline_message(code))
    _synced(payment, ev)
    return note


def _on_intent_canceled(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    note = _void(ev, payment)
    _synced(payment, ev)
    return note


def _on_charge_succeeded(ev: _Event) -> str:
    charge = ev.obj
    payment = _fresh_payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    if charge.get("captured"):
        note = _capture(ev, payment, charge.get("amount_captured") or charge["amount"])
    else:  # a manual-capture payment: authorized only
        note = _authorize(ev, payment, charge["amount"])
    _synced(payment, ev)
    return note


def _on_charge_failed(ev: _Event) -> str:
    charge = ev.obj
    payment = _fresh_payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    code = decline_code(charge.get("failure_code"), (charge.get("outcome") or {}).get("reason"))
    note = _fail(ev, payment, code, decline_message(code))
    _synced(payment, ev)
    return note


def _on_charge_refunded(ev: _Event) -> str:
    """A refunded charge was captured, whichever events about that are still on their way;
    then each of its refunds is synced by its Stripe id."""
    charge = ev.obj
    payment = _payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    notes = []
    if payment.status not in CAPTURED:
        notes.append(_capture(ev, payment, charge.get("amount_captured") or charge["amount"]))
        _synced(payment, ev)
    listed = (charge.get("refunds") or {}).get("data")
    if listed is None:  # newer API versions leave the list out: refund.* events carry them
        notes.append("the charge lists no refunds; refund events will carry them")
    for snapshot in listed or ():
        notes.append(_sync_refund(ev, payment, snapshot))
    return "; ".join(notes)


# -- refunds

_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}


def _on_refund(ev: _Event) -> str:
    payment = _captured_payment(ev, ev.obj.get("payment_intent"))
    return _sync_refund(ev, payment, ev.obj)


def _sync_refund(ev: _Event, payment: Payment, snapshot: dict[str, Any]) -> str:
    """Create, confirm or reverse our refund for a Stripe refund, at most once each."""
    target = _REFUND_STATUS.get(snapshot.get("status", ""))
    if target is None:
        raise Conflict(
            f"Refund {snapshot.get('id')} has an unknown status {snapshot.get('status')}"
        )
    record = ev.db.exec(
        select(Refund).where(Refund.gateway_refund_id == snapshot["id"]).with_for_update()
    ).first()
    if record is None:
        return _new_refund(ev, payment, snapshot, target)
    if record.payment_id != payment.id:
        raise Conflict(f"Refund {snapshot['id']} is booked on payment {record.payment_id}")
    if _stale(record.gateway_synced_at, ev):
        return f"refund {record.id}: stale snapshot left alone"
    _synced(record, ev)
    if record.status == target:
        return f"refund {record.id} already {target}"
    if record.status == RefundStatus.PENDING and target == RefundStatus.SUCCEEDED:
        booking.confirm_refund(ev.db, payment, record, ev.actor)
        return f"refund {record.id} confirmed"
    if record.status in BOOKED_REFUND and target in (RefundStatus.FAILED, RefundStatus.CANCELED):
        reason = snapshot.get("failure_reason")
        booking.reverse_refund(ev.db, payment, record, target, reason, ev.actor)
        return f"refund {record.id} {target}: booking reversed"
    return f"refund {record.id} is {record.status}; Stripe's {target} cannot move it back"


def _new_refund(ev: _Event, payment: Payment, snapshot: dict[str, Any], target: str) -> str:
    """A refund made outside our API (Stripe's dashboard) or whose API call was lost."""
    amount = snapshot["amount"]
    if str(snapshot.get("currency", "")).upper() != payment.currency:
        raise Conflict(f"Refund {snapshot['id']} is in {snapshot.get('currency')}")
    if target in BOOKED_REFUND and amount > payment.amount_captured - payment.amount_refunded:
        raise Conflict(
            f"Refund {snapshot['id']} of {amount} exceeds what remains of payment {payment.id}"
        )
    record = booking.new_refund(
        payment,
        amount,
        reason=snapshot.get("reason"),
        gateway_refund_id=snapshot["id"],
        synced_at=ev.created,
    )
    ev.db.add(record)
    ev.db.flush()
    if target in BOOKED_REFUND:
        booking.book_refund(
            ev.db, payment, record, ev.actor, pending=target == RefundStatus.PENDING
        )
        return f"refund {record.id} of {amount} booked ({target})"
    reason = snapshot.get("failure_reason")
    booking.record_unbooked_refund(ev.db, payment, record, target, reason, ev.actor, new=True)
    return f"refund {record.id} recorded as {target}"


# -- disputes
#
# Every dispute event carries the dispute as it was: each is applied the same way (open it if we
# have not yet, then move it to the snapshot's stage), so they may come in any order or twice,
# and one that repeats what our API already did (a response submitted, a dispute accepted)
# books nothing. Stripe withdraws the money when the dispute opens: opening it is that booking.


def _dispute_row(ev: _Event, gateway_dispute_id: str) -> Dispute | None:
    dispute = ev.db.exec(
        select(Dispute).where(Dispute.gateway_dispute_id == gateway_dispute_id).with_for_update()
    ).first()
    if dispute is not None:
        payment = ev.db.get(Payment, dispute.payment_id)
        if payment is not None:
            _same_source(ev, payment)
    return dispute


def _open_dispute(ev: _Event, snapshot: dict[str, Any]) -> Dispute:
    payment = _captured_payment(ev, snapshot.get("payment_intent"))
    due = (snapshot.get("evidence_details") or {}).get("due_by")
    return booking.open_dispute(
        ev.db,
        payment,
        amount=snapshot["amount"],
        reason=snapshot.get("reason") or "general",
        gateway_dispute_id=snapshot["id"],
        evidence_due_by=datetime.fromtimestamp(due, UTC) if isinstance(due, int) else None,
        actor=ev.actor,
    )


def _snapshot_stage(ev: _Event) -> DisputeStage:
    stage = dispute_stage(ev.obj.get("status"))
    if stage is None:
        raise Conflict(f"Dispute {ev.obj['id']} has an unknown status {ev.obj.get('status')}")
    return stage


def _sync_dispute(ev: _Event, stage: DisputeStage) -> str:
    """Our dispute for the event's, opened once and moved forward to `stage`, never back."""
    dispute = _dispute_row(ev, ev.obj["id"])
    notes = []
    if dispute is None:
        dispute = _open_dispute(ev, ev.obj)
        notes.append(f"dispute {dispute.id} opened on payment {dispute.payment_id}")
    elif _stale(dispute.gateway_synced_at, ev):
        raise Ignore(
            f"stale: dispute {dispute.id} already reflects Stripe as of "
            f"{dispute.gateway_synced_at.isoformat()}"  # type: ignore[union-attr]
        )
    _synced(dispute, ev)
    notes.append(_move_dispute(ev, dispute, stage))
    return "; ".join(notes)


def _move_dispute(ev: _Event, dispute: Dispute, stage: DisputeStage) -> str:
    current = DisputeStatus(dispute.status)
    if current == stage:
        return f"dispute {dispute.id} already {stage}"
    if not state_machine.can_move(current, stage, state_machine.DISPUTE_TRANSITIONS):
        return f"dispute {dispute.id} is {current}; Stripe's {stage} cannot move it back"
    if stage == DisputeStage.UNDER_REVIEW:
        booking.dispute_under_review(ev.db, dispute, ev.actor, files=_files_sent(ev, dispute))
    else:
        booking.close_dispute(ev.db, dispute, won=stage == DisputeStage.WON, actor=ev.actor)
    return f"dispute {dispute.id} {stage}"


def _files_sent(ev: _Event, dispute: Dispute) -> int:
    """How many evidence files Stripe holds for the dispute (without its evidence in the
    snapshot: how many we keep for it)."""
    evidence = ev.obj.get("evidence")
    if isinstance(evidence, dict):
        return sum(1 for kind in EvidenceKind if evidence.get(kind.value))
    query = select(DisputeEvidenceFile.id).where(DisputeEvidenceFile.dispute_id == dispute.id)
    return len(ev.db.exec(query).all())


def _on_dispute_changed(ev: _Event) -> str:
    """created, updated, funds_withdrawn: whatever stage the snapshot shows."""
    return _sync_dispute(ev, _snapshot_stage(ev))


def _on_dispute_closed(ev: _Event) -> str:
    stage = _snapshot_stage(ev)
    if stage not in (DisputeStage.WON, DisputeStage.LOST):
        raise Conflict(f"Dispute {ev.obj['id']} closed with an undecided status {stage}")
    return _sync_dispute(ev, stage)


def _on_dispute_funds_reinstated(ev: _Event) -> str:
    """The money came back: the dispute was won, whatever stage the snapshot still shows."""
    return _sync_dispute(ev, DisputeStage.WON)


# ---------------------------------------------------------------------------------------------
# Payouts of a merchant's own Stripe account


def _on_payout(ev: _Event) -> str:
    """created, updated, paid, failed, canceled: recorded once, then moved forward, exactly as
    the daily import does (one function for both)."""
    source = source_of(ev.row.provider)
    if source is None:
        raise Ignore("the platform account's payouts are not a merchant's")
    config = ev.db.get(GatewayConfig, source)
    if config is None or not gateway_configs.is_own_account(config):
        raise Ignore(f"processor {source} is not a merchant's own Stripe account")
    if config.livemode != ev.row.livemode:
        raise Ignore(f"a {_mode(ev.row.livemode)} event for a {_mode(config.livemode)} processor")
    applied = stripe_import.apply_payout(ev.db, config, payout_from_event(ev.obj), ev.actor)
    if applied == stripe_import.Applied.FOREIGN:
        raise Ignore(f"payout {ev.obj.get('id')} belongs to another account")
    return f"payout {ev.obj.get('id')}: {applied}"


HANDLERS: dict[str, Callable[[_Event], str]] = {
    "payment_intent.created": _on_intent_created,
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "payment_intent.processing": _on_intent_processing,
    "payment_intent.canceled": _on_intent_canceled,
    "charge.succeeded": _on_charge_succeeded,
    "charge.failed": _on_charge_failed,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_changed,
    "charge.dispute.updated": _on_dispute_changed,
    "charge.dispute.funds_withdrawn": _on_dispute_changed,
    "charge.dispute.funds_reinstated": _on_dispute_funds_reinstated,
    "charge.dispute.closed": _on_dispute_closed,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "payout.created": _on_payout,
    "payout.updated": _on_payout,
    "payout.paid": _on_payout,
    "payout.failed": _on_payout,
    "payout.canceled": _on_payout,
}
