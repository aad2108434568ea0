"""A checkout session's states, its public shape, and how it ends: complete once its order is
paid (the receipt recorded for sending after the commit), expired when its time is up or too
many declines lock it. `refresh` brings a session up to date whenever it is read; `settle` does
it for sessions nobody looks at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.currency import format_money
from backend.core.errors import NotFound
from backend.integrations import email as email_outbox
from backend.models import BankDebit, CheckoutSession, Merchant, Order, Payment, utcnow
from backend.models.enums import ActorType, OrderStatus, PaymentStatus
from backend.services import audit, context, events, labels
from backend.services.checkout.i18n import format_moment, t
from backend.services.context import Actor, Scope
from backend.services.payments import operations
from backend.services.representations import payment_to_dict, timestamp

OPEN, COMPLETE, EXPIRED = "open", "complete", "expired"
# What a pay attempt may answer besides a session status (PayResult.status).
DECLINED, REQUIRES_ACTION = "declined", "requires_action"
LOCKED = "locked"  # too many declines: the session expired for the customer's protection
THROTTLED = "throttled"  # too many declines from the customer's address: wait, then try again
TOO_MANY_DECLINES = "too_many_declines"
CUSTOMER = Actor(ActorType.SYSTEM, "checkout")


def session_url(session: CheckoutSession) -> str:
    return f"{get_settings().app_url.rstrip('/')}/pay/{session.id}"


def session_to_dict(session: CheckoutSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "checkout.session",
        "livemode": session.livemode,
        "url": session_url(session),
        "status": session.status,
        "amountTotal": session.amount_total,
        "currency": session.currency,
        "lineItems": session.line_items,
        "customerEmail": session.customer_email,
        "successUrl": session.success_url,
        "cancelUrl": session.cancel_url,
        "paymentMethods": session.payment_methods,
        "savePaymentMethod": session.save_payment_method,
        "orderId": session.order_id,
        "paymentId": session.payment_id,
        "paymentLinkId": session.payment_link_id,
        "metadata": session.metadata_,
        "expiresAt": timestamp(session.expires_at),
        "createdAt": timestamp(session.created_at),
        "completedAt": timestamp(session.completed_at),
    }


def refresh(
    db: Session, session: CheckoutSession, *, locale: str = "en_US", time_zone: str = "UTC"
) -> str | None:
    """Apply what happened since the session was last read: its order paid elsewhere (a Stripe
    webhook after 3-D Secure) completes it; its expiry time passing expires it.

    Returns the id of a receipt e-mail to send once the caller's transaction commits.
    """
    if session.status != OPEN:
        return None
    paid = succeeded_payment(db, session)
    if paid is not None:
        return complete(db, session, paid, locale, time_zone)
    if utcnow() >= session.expires_at:
        expire(db, session, context.SYSTEM)
    return None


def sessions_to_settle(db: Session, *, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Open sessions that nobody has read since they fell due: their expiry time has passed, or
    their order was paid off the page (a Stripe webhook after 3-D Secure). The sweep settles
    them so the merchant's webhooks hear at once, not at the next read."""
    now = now or utcnow()
    overdue = db.exec(
        select(CheckoutSession.id)
        .where(CheckoutSession.status == OPEN, col(CheckoutSession.expires_at) <= now)
        .order_by(col(CheckoutSession.expires_at))
        .limit(limit)
    ).all()
    paid = db.exec(
        select(CheckoutSession.id)
        .join(Order, col(Order.id) == col(CheckoutSession.order_id))
        .where(CheckoutSession.status == OPEN, Order.status != OrderStatus.OPEN)
        .limit(limit)
    ).all()
    return list(dict.fromkeys([*paid, *overdue]))


def settle(db: Session, session_id: str) -> str | None:
    """Bring one session up to date under its row lock; the receipt e-mail id to send after
    the commit, if completing it wrote one."""
    return refresh(db, lock_session(db, session_id))


def succeeded_payment(db: Session, session: CheckoutSession) -> Payment | None:
    order = db.get(Order, session.order_id)
    if order is None or order.status == OrderStatus.OPEN:
        return None
    return db.exec(
        select(Payment)
        .where(
            Payment.order_id == session.order_id,
            col(Payment.status).in_(
                (
                    PaymentStatus.SUCCEEDED,
                    PaymentStatus.PARTIALLY_REFUNDED,
                    PaymentStatus.REFUNDED,
                    PaymentStatus.DISPUTED,
                )
            ),
        )
        .order_by(col(Payment.created_at))
    ).first()


def pending_action(db: Session, session: CheckoutSession) -> Payment | None:
    return db.exec(
        select(Payment).where(
            Payment.order_id == session.order_id,
            Payment.status == PaymentStatus.REQUIRES_ACTION,
        )
    ).first()


def expire(
    db: Session, session: CheckoutSession, actor: Actor, details: dict[str, Any] | None = None
) -> None:
    pending = pending_action(db, session)
    if pending is not None:  # a 3-D Secure challenge left open: cancel it at the gateway
        operations.void(db, Scope(session.merchant_id, session.livemode), pending.id, actor=actor)
    now = utcnow()
    session.status, session.expired_at, session.updated_at = EXPIRED, now, now
    order = db.get(Order, session.order_id, with_for_update=True)
    if order is not None and order.status == OrderStatus.OPEN:
        order.status, order.updated_at = OrderStatus.CANCELED, now
        db.add(order)
    db.add(session)
    audit_session(db, session, "checkout.session.expired", actor, details)
    events.emit(
        db,
        type="checkout.session.expired",
        merchant_id=session.merchant_id,
        livemode=session.livemode,
        object_type="checkout.session",
        object_id=session.id,
        data={"checkoutSession": session_to_dict(session)},
    )


def complete(
    db: Session, session: CheckoutSession, payment: Payment, locale: str, time_zone: str = "UTC"
) -> str | None:
    from backend.services.checkout import subscribing

    now = utcnow()
    session.status, session.payment_id = COMPLETE, payment.id
    session.completed_at = session.updated_at = now
    session.customer_email = session.customer_email or payment.customer_email
    db.add(session)
    details = {"payment": payment.id}
    subscription = subscribing.subscribe_if_recurring(db, session, payment, CUSTOMER)
    if subscription is not None:
        details["subscription"] = subscription
    audit_session(db, session, "checkout.session.completed", CUSTOMER, details)
    events.emit(
        db,
        type="checkout.session.completed",
        merchant_id=session.merchant_id,
        livemode=session.livemode,
        object_type="checkout.session",
        object_id=session.id,
        data={"checkoutSession": session_to_dict(session), "payment": payment_to_dict(payment)},
    )
    if not session.customer_email:
        return None
    return record_receipt(db, session, payment, locale, time_zone).id


def record_receipt(
    db: Session, session: CheckoutSession, payment: Payment, locale: str, time_zone: str
) -> Any:
    merchant = db.get(Merchant, session.merchant_id)
    name = merchant.name if merchant else ""
    amount = format_money(payment.amount_captured or payment.amount, payment.currency, locale)
    url = session_url(session)
    # A bank payment is on its way for days: the e-mail says so rather than thanking for it.
    first = "processing_text" if payment.status == PaymentStatus.PROCESSING else "email_body"
    lines = [t(first, locale, amount=amount, merchant=name), ""]
    for item in session.line_items:
        total = format_money(item["quantity"] * item["unitAmountCents"], session.currency, locale)
        lines.append(f"{item['name']} x {item['quantity']}: {total}")
    if payment.card_last4:
        lines.append(f"{t('paid_with', locale)}: {labels.card_brand(payment.card_brand)} ••••")
        lines[-1] += f" {payment.card_last4}"
    elif (bank := paid_by_bank(db, payment, locale)) is not None:
        lines.append(f"{t('paid_with', locale)}: {bank}")
    paid_at = format_moment(session.completed_at or utcnow(), locale, time_zone)
    lines += [
        f"{t('date', locale)}: {paid_at}",
        f"{t('reference', locale)}: {payment.id}",
        "",
        t("email_view", locale, url=url),
    ]
    text = "\n".join(lines)
    return email_outbox.record_email(
        db,
        to=session.customer_email or "",
        subject=t("email_subject", locale, merchant=name),
        text=text,
        template="checkout_receipt",
        merchant_id=session.merchant_id,
    )


def paid_by_bank(db: Session, payment: Payment, locale: str) -> str | None:
    """A bank payment's account in the customer's words: "Bank account ···6789 (Bank)"."""
    debit = db.get(BankDebit, payment.id) if payment.payment_method_type == "bank" else None
    if debit is None:
        return None
    return t("paid_by_bank", locale, last4=debit.last4, bank=debit.bank_name)


def audit_session(
    db: Session,
    session: CheckoutSession,
    action: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> None:

    audit.record_by(
        db,
        actor,
        action,
        session,
        "checkout.session",
        {"status": session.status, **(details or {})},
    )


def lock_session(db: Session, session_id: str) -> CheckoutSession:
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 40:
        raise NotFound("No such checkout session", param="id")
    session = db.exec(
        select(CheckoutSession).where(CheckoutSession.id == session_id).with_for_update()
    ).first()
    if session is None:
        raise NotFound("No such checkout session", param="id")
    return session
