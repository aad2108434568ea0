"""What a signed-in member does from the portal's payment and dispute pages.

Each function takes the member's resolved session (role, merchant, mode), checks the
permission matrix first, then opens its own unit of work and calls the one service function
that acts (charges, reviews, risk, dispute_evidence). The portal's event handlers
only call these and copy the answer into their state, so every check runs on the server
whatever the page shows. Refunds go through refund_limits (limits and step-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import BankDebit, Payment, Refund, User
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity.permissions import Permission, can, require
from backend.services.identity.sessions import SessionContext
from backend.services.payments import (
    bank_debits,
    blocklist,
    booking,
    dispute_evidence,
    operations,
    orders,
    refund_limits,
    reviews,
    state_machine,
)
from backend.services.payments.money_input import parse_money
from backend.services.reporting import payment_detail
from backend.services.reporting.payment_detail import EventDeliveries, TimelineEntry


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _actor(ctx: SessionContext, ip_address: str | None) -> Actor:
    return Actor(ActorType.USER, ctx.user_id, ip_address or None)


# ---------------------------------------------------------------------------------------------
# One payment


@dataclass(frozen=True)
class PaymentPage:
    """One payment as its page shows it, and what this member may do to it."""

    payment: Payment
    refunds: list[Refund]
    timeline: list[TimelineEntry]
    routing: list[payment_detail.RouteStep]  # the processors offered the payment, and why
    webhooks: list[EventDeliveries]
    blockable: list[tuple[str, str, bool]]  # kind, value, already listed
    reviewer_email: str | None
    can_capture: bool
    can_void: bool
    can_refund: bool
    can_review: bool
    remaining: int  # captured and not refunded
    refundable: int  # what this member may refund now
    refund_limited: bool  # refundable is cut by the member's refund limit
    bank_debit: BankDebit | None = None  # a bank payment's account, mandate and return


def payment_page(ctx: SessionContext, payment_id: str, locale: str) -> PaymentPage:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        p = orders.get_payment(db, _scope(ctx), payment_id)
        refunds = booking.refunds_of(db, p.id)
        timeline = payment_detail.payment_timeline(db, p, locale)
        routing_steps = payment_detail.routing_decision(db, p)
        webhooks = payment_detail.payment_webhooks(db, p)
        can_block = can(ctx.role, Permission.MANAGE_SETTINGS)
        blockable = blocklist.blockable_values(db, p) if can_block else []
        reviewer = db.get(User, p.reviewed_by) if p.reviewed_by else None
        debit = bank_debits.debit_of(db, p.id) if p.payment_method_type == "bank" else None
    remaining = p.amount_captured - p.amount_refunded
    can_refund = (
        p.status in state_machine.REFUNDABLE
        and remaining > 0
        and (can(ctx.role, Permission.REFUND) or can(ctx.role, Permission.REFUND_LIMITED))
    )
    allowed, limited = remaining, False
    if can_refund:
        allowed, limited = refund_limits.refundable(ctx, p)
    return PaymentPage(
        payment=p,
        refunds=list(refunds),
        timeline=list(timeline),
        routing=routing_steps,
        webhooks=list(webhooks),
        blockable=list(blockable),
        reviewer_email=reviewer.email if reviewer else None,
        can_capture=p.status in state_machine.CAPTURABLE and can(ctx.role, Permission.CAPTURE_VOID),
        can_void=p.status in state_machine.VOIDABLE and can(ctx.role, Permission.CAPTURE_VOID),
        can_refund=can_refund,
        can_review=reviews.is_open(p) and can(ctx.role, Permission.REVIEW_PAYMENTS),
        remaining=remaining,
        refundable=allowed,
        refund_limited=limited,
        bank_debit=debit,
    )


def block_payment_value(ctx: SessionContext, payment_id: str, kind: str) -> None:
    """Block this payment's stored value of that kind: the browser only names the kind."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    attribute = blocklist.PAYMENT_BLOCKABLES.get(str(kind))
    with session_scope() as db:
        p = orders.get_payment(db, _scope(ctx), payment_id)
        value = getattr(p, attribute) if attribute else None
        if not value:
            raise ValidationFailed("This payment has nothing of that kind to block")
        blocklist.add_to_blocklist(
            db,
            ctx.merchant_id,
            str(kind),
            value,
            f"From payment {p.id}",
            actor_type=ActorType.USER,
            actor_id=ctx.user_id,
        )


def close_review(
    ctx: SessionContext, payment_id: str, outcome: str, *, ip_address: str | None
) -> None:
    require(ctx.role, Permission.REVIEW_PAYMENTS)
    with session_scope() as db:
        reviews.close(db, _scope(ctx), payment_id, str(outcome)[:16], actor=_actor(ctx, ip_address))


def capture(
    ctx: SessionContext, payment_id: str, typed_amount: str, locale: str, *, ip_address: str | None
) -> Payment:
    """Capture the typed amount (in the payment's currency, the member's locale), or all of
    it when nothing was typed; the captured payment."""
    require(ctx.role, Permission.CAPTURE_VOID)
    with session_scope() as db:
        current = orders.get_payment(db, _scope(ctx), payment_id)
        amount = (
            parse_money(typed_amount, current.currency, locale, param="amount")
            if typed_amount
            else None
        )
        return operations.capture(
            db, _scope(ctx), payment_id, amount=amount, actor=_actor(ctx, ip_address)
        )


def void(ctx: SessionContext, payment_id: str, *, ip_address: str | None) -> None:
    require(ctx.role, Permission.CAPTURE_VOID)
    with session_scope() as db:
        operations.void(db, _scope(ctx), payment_id, actor=_actor(ctx, ip_address))


# ---------------------------------------------------------------------------------------------
# Disputes


@dataclass(frozen=True)
class DisputeList:
    page: dispute_evidence.DisputePage
    open_count: int


def dispute_list(ctx: SessionContext, *, status: str | None, cursor: str | None) -> DisputeList:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        page = dispute_evidence.list_disputes(db, _scope(ctx), status=status, cursor=cursor)
        open_count = dispute_evidence.count_open(db, _scope(ctx))
    return DisputeList(page, open_count)


def dispute_detail(ctx: SessionContext, dispute_id: str) -> dispute_evidence.DisputeDetail:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        return dispute_evidence.dispute_detail(db, _scope(ctx), dispute_id)


def add_dispute_evidence(
    ctx: SessionContext,
    dispute_id: str,
    uploads: list[dispute_evidence.Upload],
    *,
    ip_address: str | None,
) -> int:
    """How many files were added."""
    require(ctx.role, Permission.MANAGE_DISPUTES)
    with session_scope() as db:
        added = dispute_evidence.add_evidence(
            db, _scope(ctx), dispute_id, uploads, actor=_actor(ctx, ip_address)
        )
    return len(added)


def remove_dispute_evidence(
    ctx: SessionContext, dispute_id: str, file_id: str, *, ip_address: str | None
) -> None:
    require(ctx.role, Permission.MANAGE_DISPUTES)
    with session_scope() as db:
        dispute_evidence.remove_evidence(
            db, _scope(ctx), dispute_id, file_id, actor=_actor(ctx, ip_address)
        )


def save_dispute_response(
    ctx: SessionContext,
    dispute_id: str,
    explanation: str,
    *,
    submit: bool,
    ip_address: str | None,
) -> None:
    """Save the explanation as a draft, or submit it with the evidence."""
    require(ctx.role, Permission.MANAGE_DISPUTES)
    action = dispute_evidence.submit_evidence if submit else dispute_evidence.save_explanation
    with session_scope() as db:
        action(db, _scope(ctx), dispute_id, explanation, actor=_actor(ctx, ip_address))


def accept_dispute(ctx: SessionContext, dispute_id: str, *, ip_address: str | None) -> None:
    """Concede the dispute at the processor: the customer keeps the money."""
    require(ctx.role, Permission.MANAGE_DISPUTES)
    with session_scope() as db:
        dispute_evidence.accept_dispute(db, _scope(ctx), dispute_id, actor=_actor(ctx, ip_address))
