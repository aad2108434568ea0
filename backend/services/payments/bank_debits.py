"""Bank debits (ACH): the customer's mandate, the account debited, and what the bank says days
later (succeeded, failed, or returned after it succeeded).

A bank payment is taken by the charge path like any payment (charges.py) and stays
`processing`. Its outcome arrives from Stripe's events (webhooks/inbound/stripe_handlers.py) or,
for the sandbox, which sends none, from the bank settle job (`poll_due`, backend/tasks), which
asks the gateway about each debit until its `poll_until`. Both book through
`settle` / `returned`, so a rule about a debit's outcome has one home.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import ServiceError, ValidationFailed
from backend.gateways.base import GatewayUnavailable, Outcome, PaymentResult
from backend.integrations import email
from backend.integrations.bank_payouts import ACH_RETURN_REASONS
from backend.models import BankDebit, Membership, Merchant, Payment, User, utcnow
from backend.models.enums import PaymentStatus, Role
from backend.services.context import SYSTEM, Actor
from backend.services.payments import booking, orders, routing, state_machine

log = logging.getLogger(__name__)

P = PaymentStatus
CURRENCY = "USD"  # ACH debits US bank accounts in US dollars only
MAX_MANDATE_TEXT = 2000
MAX_USER_AGENT = 500
# How long after its creation the sandbox's debit may still change (settled, then returned).
_POLL_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class MandateInput:
    """The customer's authorisation of a debit, as shown to them and accepted online."""

    text: str
    ip_address: str
    user_agent: str
    language: str = "en"
    accepted_at: datetime | None = None  # now, when not given


@dataclass(frozen=True)
class LinkedBank:
    """What Plaid (or its twin) said about the account the customer chose."""

    bank_name: str
    last4: str
    account_type: str | None = None


def check_currency(currency: str | None) -> None:
    if currency is not None and currency.upper() != CURRENCY:
        raise ValidationFailed(
            f"Bank payments are in US dollars only; this one is in {currency}",
            code="currency_unsupported",
            param="currency",
        )


def check_mandate(mandate: MandateInput | None, ip_address: str | None) -> MandateInput:
    """The mandate a bank payment needs: its text, and the customer's address and browser."""
    if mandate is None:
        raise ValidationFailed(
            "A bank payment needs the customer's mandate (its text, IP address and user agent)",
            code="mandate_required",
            param="mandate",
        )
    text = mandate.text.strip() if isinstance(mandate.text, str) else ""
    if not text or len(text) > MAX_MANDATE_TEXT:
        raise ValidationFailed(
            f"mandate.text must be the authorisation shown, 1 to {MAX_MANDATE_TEXT} characters",
            param="mandate.text",
        )
    agent = mandate.user_agent.strip() if isinstance(mandate.user_agent, str) else ""
    if not agent or len(agent) > MAX_USER_AGENT:
        raise ValidationFailed(
            f"mandate.userAgent must be the customer's browser, 1 to {MAX_USER_AGENT} characters",
            param="mandate.userAgent",
        )
    from backend.services.payments import risk

    address = risk.canonical_ip(mandate.ip_address or ip_address)
    if address is None:
        raise ValidationFailed(
            "mandate.ipAddress must be the customer's IP address", param="mandate.ipAddress"
        )
    return MandateInput(text, address, agent, mandate.language, mandate.accepted_at or utcnow())


def new_debit(
    payment: Payment,
    result: PaymentResult,
    mandate: MandateInput,
    linked: LinkedBank | None,
    poll: bool,
) -> BankDebit:
    """The row recording a bank payment's mandate and account, written with the payment.
    `poll`: the gateway sends no events (the sandbox), so the settle job asks it."""
    bank = result.bank
    accepted = mandate.accepted_at or payment.created_at
    settle = timedelta(seconds=_settle_seconds())
    return BankDebit(
        payment_id=payment.id,
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        # Plaid names the bank the customer chose; the processor's own name is the fallback.
        bank_name=(linked.bank_name if linked else bank.bank_name if bank else "Bank")[:100],
        last4=(linked.last4 if linked else bank.last4 if bank else "")[-4:],
        account_type=linked.account_type if linked else bank.account_type if bank else None,
        mandate_text=mandate.text,
        mandate_language=mandate.language,
        mandate_accepted_at=accepted,
        mandate_ip_address=mandate.ip_address,
        mandate_user_agent=mandate.user_agent,
        gateway_mandate_id=result.gateway_mandate_id,
        poll_until=payment.created_at + 2 * settle + _POLL_MARGIN if poll else None,
        created_at=payment.created_at,
    )


def _settle_seconds() -> float:
    from backend.core.config import get_settings

    return get_settings().sandbox_bank_settle_seconds


def debit_of(db: Session, payment_id: str) -> BankDebit | None:
    return db.get(BankDebit, payment_id)


def debits_of(db: Session, payments: list[Payment]) -> dict[str, BankDebit]:
    """The bank debit rows of those payments that are bank payments, by payment id."""
    ids = [p.id for p in payments if p.payment_method_type == "bank"]
    if not ids:
        return {}
    rows = db.exec(select(BankDebit).where(col(BankDebit.payment_id).in_(ids))).all()
    return {row.payment_id: row for row in rows}


def account_words(debit: BankDebit) -> str:
    """ "Bank account ···6789 (First Platypus Bank)", as the portal shows the method."""
    return f"Bank account ···{debit.last4} ({debit.bank_name})"


def return_words(debit: BankDebit) -> str:
    """The bank's return in words, or "" while there is none."""
    if debit.return_code is None:
        return ""
    return f"Returned by the customer's bank: {return_reason(debit.return_code)}"


# ---------------------------------------------------------------------------------------------
# The bank's answer


def return_reason(code: str) -> str:
    """An ACH code in words: "Insufficient funds (R01)"."""
    return f"{ACH_RETURN_REASONS.get(code, 'Returned by the bank')} ({code})"


def settle(db: Session, payment: Payment, result: PaymentResult, actor: Actor, at: datetime) -> str:
    """Apply the processor's view of a debit (the payment row locked by the caller): succeeded,
    failed while processing, or returned after it succeeded. Repeats change nothing."""
    debit = debit_of(db, payment.id)
    if result.outcome == Outcome.PROCESSING:
        return f"payment {payment.id} still processing"
    if result.outcome == Outcome.SUCCEEDED:
        if payment.status != P.PROCESSING:
            return f"payment {payment.id} already {payment.status}"
        platform = booking.platform_fees(db, payment.merchant_id)
        order = orders.payable_order(db, payment)
        gateway = routing.fees_for_payment(db, payment)
        booking.capture(db, order, payment, payment.amount, platform, gateway, actor, at)
        return f"payment {payment.id} succeeded"
    code = (result.decline_code or "R01")[:8]
    if payment.status == P.PROCESSING:
        booking.fail(db, payment, code, return_reason(code), actor)
        if debit is not None:
            debit.poll_until = None
            db.add(debit)
        return f"payment {payment.id} failed: {code}"
    if payment.status in state_machine.BANK_RETURNABLE and debit is not None:
        returned(db, payment, debit, code, actor, at)
        return f"payment {payment.id} returned: {code}"
    if payment.status != P.FAILED:
        # A return after a refund (or during a dispute) is not booked yet: say so loudly.
        log.warning(
            "bank return %s of payment %s (%s) not booked", code, payment.id, payment.status
        )
    return f"payment {payment.id} is {payment.status}: the bank's {code} changes nothing"


def returned(
    db: Session, payment: Payment, debit: BankDebit, code: str, actor: Actor, at: datetime
) -> None:
    """A succeeded debit came back: booked (money, fees, event) and the owner e-mailed."""
    reason = return_reason(code)
    booking.bank_return(db, payment, debit, code, reason, actor, at)
    owner = _owner_email(db, payment.merchant_id)
    if owner is None:
        return
    name = db.exec(select(Merchant.name).where(Merchant.id == payment.merchant_id)).first()
    amount = format_money(payment.amount_captured, payment.currency)
    fee = format_money(debit.return_fee or 0, payment.currency)
    email.record_email(
        db,
        to=owner,
        subject=f"Bank payment {payment.id} of {amount} was returned",
        text=(
            f"The customer's bank returned the bank payment {payment.id} of {amount} to "
            f"{name or 'your business'}: {reason}. The {amount} has left your balance, the "
            f"platform fee was given back and a bank return fee of {fee} was charged. The "
            f"order is unpaid again: ask the customer ({payment.customer_email or 'no e-mail'}) "
            "to pay another way."
        ),
        template="bank_payment_returned",
        merchant_id=payment.merchant_id,
    )


def _owner_email(db: Session, merchant_id: str) -> str | None:
    return db.exec(
        select(User.email)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.merchant_id == merchant_id, Membership.role == Role.OWNER)
    ).first()


# ---------------------------------------------------------------------------------------------
# The settle job (sandbox debits: no processor events)


def poll_due(now: datetime | None = None, *, actor: Actor = SYSTEM) -> int:
    """Ask the gateway about every debit still watched; how many changed. Each debit is its own
    transaction, so one whose gateway is down waits for the next run."""
    now = now or utcnow()
    with session_scope(readonly=True) as db:
        ids = db.exec(select(BankDebit.payment_id).where(col(BankDebit.poll_until) >= now)).all()
    changed = 0
    for payment_id in ids:
        try:
            with session_scope() as db:
                if _poll_one(db, payment_id, actor, now):
                    changed += 1
        except (ServiceError, GatewayUnavailable) as exc:
            log.warning("bank debit %s not settled now: %s", payment_id, exc)
    return changed


def _poll_one(db: Session, payment_id: str, actor: Actor, now: datetime) -> bool:
    payment = db.exec(select(Payment).where(Payment.id == payment_id).with_for_update()).first()
    if payment is None or payment.status not in (P.PROCESSING, *state_machine.BANK_RETURNABLE):
        return False
    if not payment.gateway_payment_id:
        return False
    before = payment.status
    route = routing.route_for_payment(db, payment)
    result = route.gateway.retrieve(payment.gateway_payment_id)
    settle(db, payment, result, actor, now)
    return payment.status != before
