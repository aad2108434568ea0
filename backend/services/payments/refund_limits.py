"""Refunds by a team member from the portal: the support refund limit and the step-up threshold
apply to running totals, so a refund sliced into pieces meets the same limit and the same
request for a second-factor code as one refund of the whole.

A member's refund is judged on two totals (permissions.RefundTotals): what the payment will
have had refunded (by anyone: the dashboard, the API, Stripe's own dashboard) and what the
member will have refunded that day. The day is the merchant's, in its time zone, as the
dashboard counts days. Support may refund while both totals stay within its limit; either total
above the step-up threshold asks for a fresh code. Refunds through the API key are the
merchant's own integration and count towards the payment's total only.

Race-safe: `refund` locks the payment row, then the member's row for the day
(MemberRefundDay; SELECT ... FOR UPDATE on PostgreSQL, SQLite's write transaction is exclusive
anyway), reads both totals, decides, refunds, and raises the day's total in one transaction:
two slices sent at once are decided one after the other. A refund the processor refuses adds
nothing; one that is pending counts, as it does on the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import MemberRefundDay, Merchant, Payment, Refund, utcnow
from backend.models.enums import ActorType, RefundStatus
from backend.services.context import Actor, Scope
from backend.services.identity import permissions, step_up
from backend.services.identity.permissions import RefundTotals
from backend.services.identity.sessions import SessionContext
from backend.services.payments import operations, orders
from backend.services.payments.money_input import parse_money
from backend.services.reporting.periods import zone


@dataclass(frozen=True)
class RefundReview:
    """A refund a member may make, to confirm before it is made."""

    amount: int
    currency: str
    captured: int
    customer_email: str | None
    needs_step_up: bool


def day_of(merchant: Merchant, now: datetime) -> date:
    """The merchant's calendar day at `now`."""
    return now.astimezone(zone(merchant.timezone)).date()


def review(
    ctx: SessionContext,
    payment_id: str,
    amount_text: str,
    locale: str,
    *,
    now: datetime | None = None,
) -> RefundReview:
    """The amount typed (all that remains when blank), checked against what remains of the
    payment and the member's limits; raises the refusal `refund` would."""
    with session_scope(readonly=True) as db:
        payment = orders.get_payment(db, _scope(ctx), payment_id)
        merchant = _merchant(db, ctx)
        remaining = payment.amount_captured - payment.amount_refunded
        amount = (
            parse_money(amount_text, payment.currency, locale, param="amount")
            if amount_text.strip()
            else remaining
        )
        if amount > remaining:
            raise ValidationFailed(
                f"At most {format_money(remaining, payment.currency, locale)} can still be "
                "refunded",
                param="amount",
            )
        day = db.get(
            MemberRefundDay,
            (ctx.merchant_id, ctx.livemode, ctx.user_id, _day(merchant, now), payment.currency),
        )
        totals = _totals(payment, amount, day)
        permissions.require_refund(ctx.role, merchant, totals)
        return RefundReview(
            amount=amount,
            currency=payment.currency,
            captured=payment.amount_captured,
            customer_email=payment.customer_email,
            needs_step_up=permissions.refund_needs_step_up(merchant, totals),
        )


def refundable(
    ctx: SessionContext, payment: Payment, *, now: datetime | None = None
) -> tuple[int, bool]:
    """What this member can refund of the payment now: the lower of what remains of it and
    what their role's refund limit leaves; and whether the limit is what bounds it."""
    remaining = max(0, payment.amount_captured - payment.amount_refunded)
    with session_scope(readonly=True) as db:
        merchant = _merchant(db, ctx)
        day = db.get(
            MemberRefundDay,
            (ctx.merchant_id, ctx.livemode, ctx.user_id, _day(merchant, now), payment.currency),
        )
        allowance = permissions.refund_allowance(ctx.role, merchant, _totals(payment, 0, day))
    if allowance is None or allowance >= remaining:
        return remaining, False
    return allowance, True


def refund(
    ctx: SessionContext,
    payment_id: str,
    *,
    amount: int,
    reason: str | None,
    ip_address: str | None,
    now: datetime | None = None,
) -> Refund:
    """Refund `amount` of the payment as this member, after the limit and step-up checks on
    the running totals (StepUpRequired when a fresh code is needed). The refund row returned
    may have failed at the processor: see its status."""
    amount = orders.validate_amount(amount, param="amount")
    with session_scope() as db:
        # The session's first read, so the locked row's values are the ones used.
        payment = orders.get_payment(db, _scope(ctx), payment_id, lock=True)
        merchant = _merchant(db, ctx)
        day = _locked_day(db, ctx, merchant, payment.currency, now or utcnow())
        totals = _totals(payment, amount, day)
        permissions.require_refund(ctx.role, merchant, totals)
        if permissions.refund_needs_step_up(merchant, totals):
            step_up.require_fresh(db, ctx.session_id)
        _, record = operations.refund(
            db,
            _scope(ctx),
            payment_id,
            amount=amount,
            reason=reason,
            actor=Actor(ActorType.USER, ctx.user_id, ip_address),
        )
        if record.status != RefundStatus.FAILED:
            day.amount += record.amount
            day.updated_at = utcnow()
            db.add(day)
        return record


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _merchant(db: Session, ctx: SessionContext) -> Merchant:
    merchant = db.get(Merchant, ctx.merchant_id)
    assert merchant is not None  # the session joins it
    return merchant


def _day(merchant: Merchant, now: datetime | None) -> date:
    return day_of(merchant, now or utcnow())


def _totals(payment: Payment, amount: int, day: MemberRefundDay | None) -> RefundTotals:
    return RefundTotals(
        amount=amount,
        currency=payment.currency,
        on_payment=payment.amount_refunded,
        by_member_today=day.amount if day is not None else 0,
    )


def _locked_day(
    db: Session, ctx: SessionContext, merchant: Merchant, currency: str, now: datetime
) -> MemberRefundDay:
    """The member's row for the merchant's day, created at 0 if needed, locked."""
    key = {
        "merchant_id": ctx.merchant_id,
        "livemode": ctx.livemode,
        "user_id": ctx.user_id,
        "day": day_of(merchant, now),
        "currency": currency,
    }
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.exec(
        insert(MemberRefundDay)
        .values(**key, amount=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=list(key))
    )
    return db.exec(
        select(MemberRefundDay)
        .filter_by(**key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
