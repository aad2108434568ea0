"""The demo merchant that `make run` serves: a few hundred realistic test-mode payments."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from backend.core.ids import new_id
from backend.gateways.declines import CARD_DECLINED, CUSTOMER_DECLINE_CODES
from backend.gateways.sandbox import DECLINE_MESSAGES
from backend.integrations import bank_link
from backend.models import (
    ApiKey,
    Customer,
    Dispute,
    Merchant,
    Order,
    Payment,
    Refund,
    User,
    utcnow,
)
from backend.models.enums import (
    BillingInterval,
    CaptureMethod,
    DisputeStatus,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    RiskDecision,
)
from backend.services.billing.periods import Recurrence
from backend.services.context import Scope
from backend.services.identity import accounts, api_keys
from backend.services.ledger import backfill
from backend.services.merchant import bank_accounts
from backend.services.payments import booking, totals
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule, returned_platform_fee

DEMO_EMAIL = "owner@northwind.test"
DEMO_PASSWORD = "northwind-coffee-2026"
DEMO_NAME = "Northwind Coffee Roasters"
DEMO_KEY_NAME = "Demo key (make run)"
STARTER = FeeSchedule(percent_pips=30_000)
_OPEN_DISPUTES = 3

_CURRENCIES = [("USD", 70), ("EUR", 12), ("GBP", 8), ("CAD", 5), ("JPY", 5)]
# (status, weight) across what a real shop sees in a quarter.
_STATUSES = [
    (PaymentStatus.SUCCEEDED, 62),
    (PaymentStatus.PARTIALLY_REFUNDED, 5),
    (PaymentStatus.REFUNDED, 6),
    (PaymentStatus.FAILED, 12),
    (PaymentStatus.AUTHORIZED, 5),
    (PaymentStatus.VOIDED, 3),
    (PaymentStatus.DISPUTED, 2),
    (PaymentStatus.REQUIRES_ACTION, 3),
    (PaymentStatus.REQUIRES_PAYMENT_METHOD, 2),
]
_CARDS = [
    ("visa", "4242"),
    ("mastercard", "4444"),
    ("amex", "8431"),
    ("visa", "1881"),
    ("discover", "1117"),
    ("mastercard", "5100"),
]
_FIRST = [
    "ava",
    "liam",
    "maya",
    "noah",
    "sofia",
    "leo",
    "emma",
    "lucas",
    "chloe",
    "ethan",
    "zoe",
    "omar",
    "ines",
    "hugo",
    "yuki",
    "amir",
    "lena",
    "felix",
    "nora",
    "ravi",
]
_LAST = ["smith", "garcia", "martin", "chen", "dubois", "rossi", "kim", "novak", "silva", "khan"]
# Some customers pay with their phone: their card in Apple Pay or Google Pay. Chosen by the card's
# fingerprint, not the random stream (the rest of the history stays as it was), so one
# customer's card is always in the same wallet.
_WALLETS: tuple[str | None, ...] = ("apple_pay", "apple_pay", "google_pay") + (None,) * 5

_PRODUCTS = [
    "Ethiopia Yirgacheffe 1kg",
    "House espresso subscription",
    "Pour-over kit",
    "Colombia Huila 250g",
    "Gift card",
    "Barista workshop",
    "Decaf blend 500g",
]
# Typical ticket in minor units per currency.
_TICKETS = {
    "USD": (1200, 18000),
    "EUR": (1000, 15000),
    "GBP": (900, 13000),
    "CAD": (1500, 20000),
    "JPY": (1500, 20000),
}
# The card's own declines, worded as the sandbox words them (authentication_failed needs a
# 3-D Secure step, which the seed does not play).
_DECLINES = [
    (code, DECLINE_MESSAGES[code])
    for code in (CARD_DECLINED, *CUSTOMER_DECLINE_CODES)
    if code != "authentication_failed"
]


@dataclass(frozen=True)
class DemoCredentials:
    merchant_id: str
    email: str
    password: str
    test_secret_key: str
    created: bool


def _pick(rng: random.Random, weighted: list[tuple[object, int]]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def seed_demo(db: Session, *, payments: int = 300, seed: int = 2026) -> DemoCredentials:
    """Create the demo merchant once. Later runs announce the same test key (kept encrypted,
    as every test key); only a demo key that cannot be shown (revoked, or from before test
    secrets were kept) is replaced, revoking the old one."""
    user = db.exec(select(User).where(User.email == DEMO_EMAIL)).first()
    if user is not None:
        from backend.models import Membership

        merchant_id = db.exec(
            select(Membership.merchant_id).where(Membership.user_id == user.id)
        ).one()
        current = db.exec(
            select(ApiKey).where(
                ApiKey.merchant_id == merchant_id,
                ApiKey.name == DEMO_KEY_NAME,
                ApiKey.livemode == False,  # noqa: E712
                ApiKey.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).all()
        for key in current:
            secret = api_keys.stored_test_secret(key)
            if secret is not None and api_keys.status(key) == "active":
                return DemoCredentials(merchant_id, DEMO_EMAIL, DEMO_PASSWORD, secret, False)
        for old in current:
            old.revoked_at = utcnow()
            db.add(old)
        issued = api_keys.issue_key(db, merchant_id, name=DEMO_KEY_NAME)
        return DemoCredentials(merchant_id, DEMO_EMAIL, DEMO_PASSWORD, issued.secret, False)

    created = accounts.create_merchant(db, email=DEMO_EMAIL, password=DEMO_PASSWORD, name=DEMO_NAME)
    created.user.full_name = "Dana Whitfield"
    created.user.email_verified_at = utcnow()
    db.add(created.user)
    # The demo key gets the recognisable name; the key create_merchant made stays as "Default".
    issued = api_keys.issue_key(db, created.merchant.id, name=DEMO_KEY_NAME)
    _seed_payments(db, created.merchant, random.Random(seed), payments)
    _seed_billing(db, created.merchant)
    if bank_link.provider() == "sandbox":
        # A verified sandbox bank account (as `create-merchant --sandbox-bank`), so the demo's
        # test payouts work at once; with Plaid keys the owner links one through Link.
        bank_accounts.connect_sandbox(db, created.merchant.id, created.user.id)
    return DemoCredentials(created.merchant.id, DEMO_EMAIL, DEMO_PASSWORD, issued.secret, True)


def _seed_payments(db: Session, merchant: Merchant, rng: random.Random, count: int) -> None:
    now = utcnow()
    customers = []
    for i in range(45):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        customers.append(
            Customer(
                id=new_id("cus"),
                merchant_id=merchant.id,
                email=f"{first}.{last}{i}@example.com",
                name=f"{first.title()} {last.title()}",
                country=rng.choice(["US", "US", "US", "CA", "GB", "FR", "DE", "JP"]),
                created_at=now - timedelta(days=rng.uniform(60, 120)),
            )
        )
    db.add_all(customers)
    db.flush()

    dependents: list[Refund | Dispute] = []
    for i in range(count):
        created_at = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        currency = str(_pick(rng, _CURRENCIES))
        low, high = _TICKETS[currency]
        amount = rng.randint(low, high)
        if currency == "JPY":
            amount = amount // 10 * 10
        status = PaymentStatus(str(_pick(rng, _STATUSES)))
        if i < _OPEN_DISPUTES:  # a few disputes still waiting for the merchant's answer
            created_at = now - timedelta(days=rng.uniform(1, 6))
            status = PaymentStatus.DISPUTED
        customer = rng.choice(customers)
        brand, last4 = rng.choice(_CARDS)
        fingerprint = hashlib.sha256(f"{brand}{last4}{customer.id}".encode()).hexdigest()[:32]
        order = Order(
            id=new_id("ord"),
            merchant_id=merchant.id,
            customer_id=customer.id,
            amount=amount,
            currency=currency,
            reference=f"NW-{rng.randint(10000, 99999)}",
            customer_email=customer.email,
            created_at=created_at,
            updated_at=created_at,
        )
        payment = Payment(
            id=new_id("pay"),
            merchant_id=merchant.id,
            order_id=order.id,
            customer_id=customer.id,
            status=status,
            capture_method=CaptureMethod.MANUAL
            if status in (PaymentStatus.AUTHORIZED, PaymentStatus.VOIDED)
            else CaptureMethod.AUTOMATIC,
            currency=currency,
            amount=amount,
            gateway="sandbox",
            gateway_payment_id=f"sbx_{rng.getrandbits(64):016x}",
            card_brand=brand,
            card_last4=last4,
            # One customer's card keeps its expiry from payment to payment.
            card_exp_month=int(fingerprint[:8], 16) % 12 + 1,
            card_exp_year=now.year + 1 + int(fingerprint[8:16], 16) % 5,
            card_fingerprint=fingerprint,
            card_country=customer.country,
            card_wallet=_WALLETS[int(fingerprint[16:18], 16) % len(_WALLETS)],
            customer_email=customer.email,
            description=rng.choice(_PRODUCTS),
            risk_score=rng.randint(2, 35),
            risk_decision=RiskDecision.ALLOW,
            created_at=created_at,
            updated_at=created_at,
        )
        dependents.extend(_apply_outcome(rng, payment, order, status))
        db.add(order)
        db.add(payment)
    db.flush()  # refunds and disputes reference the payments
    db.add_all(dependents)
    db.flush()
    # A history written directly, not booked: the dashboard's totals are summed from it.
    totals.rebuild(db, merchant.id, False)
    backfill.run(db, merchant_id=merchant.id, now=now)  # the history's ledger


def _apply_outcome(
    rng: random.Random, payment: Payment, order: Order, status: PaymentStatus
) -> list[Refund | Dispute]:
    """Fill amounts and fees so each payment is internally consistent
    (amount_captured - amount_refunded == platform_fee + gateway_fee + net_amount) and return
    the refunds and disputes that go with it."""
    at = payment.created_at
    if status in (
        PaymentStatus.FAILED,
        PaymentStatus.REQUIRES_PAYMENT_METHOD,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.VOIDED,
        PaymentStatus.AUTHORIZED,
    ):
        if status == PaymentStatus.FAILED:
            payment.failure_code, payment.failure_message = rng.choice(_DECLINES)
        if status in (PaymentStatus.AUTHORIZED, PaymentStatus.VOIDED):
            payment.authorized_at = at
        if status == PaymentStatus.VOIDED:
            payment.canceled_at = at + timedelta(hours=2)
            order.status = OrderStatus.CANCELED
        return []

    # The booking path's arithmetic on rows written directly (a seed, not a history of events).
    booking.set_fees(payment, payment.amount, STARTER, STRIPE_DEFAULT)
    payment.amount_captured = payment.amount
    payment.authorized_at = payment.captured_at = at
    order.status = OrderStatus.PAID

    if status in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
        refund_amount = (
            payment.amount
            if status == PaymentStatus.REFUNDED
            else payment.amount * rng.randint(2, 6) // 10
        )
        # The platform fee is returned in proportion to the refund; the gateway keeps its fee.
        platform_back = returned_platform_fee(
            original_fee=payment.platform_fee,
            captured=payment.amount_captured,
            refunded_before=0,
            refund=refund_amount,
        )
        payment.amount_refunded = refund_amount
        payment.platform_fee -= platform_back
        payment.net_amount -= refund_amount - platform_back
        order.status = (
            OrderStatus.REFUNDED
            if status == PaymentStatus.REFUNDED
            else OrderStatus.PARTIALLY_REFUNDED
        )
        refunded_at = at + timedelta(days=rng.uniform(0.5, 10))
        refund = booking.new_refund(
            payment,
            refund_amount,
            reason=rng.choice(["requested_by_customer", "duplicate", "fraudulent"]),
        )
        refund.status = RefundStatus.SUCCEEDED
        refund.platform_fee_refunded = platform_back
        refund.created_at = refund.updated_at = refunded_at
        return [refund]
    elif status == PaymentStatus.DISPUTED:
        opened = min(at + timedelta(days=rng.uniform(0.2, 3)), utcnow())
        due = opened + timedelta(days=21)
        # Disputes whose deadline passed unanswered were lost (the payment stays disputed).
        lost = due < utcnow()
        return [
            Dispute(
                id=new_id("dp"),
                merchant_id=payment.merchant_id,
                payment_id=payment.id,
                # the sandbox's id, as its own disputes have: it decides submitted evidence
                gateway_dispute_id=f"sbx_dp_{payment.id}",
                amount=payment.amount,
                currency=payment.currency,
                status=DisputeStatus.LOST if lost else DisputeStatus.NEEDS_RESPONSE,
                reason=rng.choice(["fraudulent", "product_not_received", "duplicate"]),
                evidence_due_by=due,
                created_at=opened,
                updated_at=due if lost else opened,
                closed_at=due if lost else None,
            )
        ]
    return []


def _seed_billing(db: Session, merchant: Merchant) -> None:
    """A small subscription business on a test clock, run by the engine itself: products and
    prices, subscribers (one trialing, one with seats), a year's renewals of one, and a card
    that started failing (past due, its retry scheduled), so the Billing pages show real work."""
    from backend.services.billing import catalogue, clock, subscriptions
    from backend.services.customers import payment_methods, records

    scope = Scope(merchant.id, False)
    start = int((utcnow() - timedelta(days=400)).timestamp())
    demo_clock = clock.create_clock(db, scope, frozen_time=start, name="Demo subscriptions")
    tea = catalogue.create_product(db, scope, name="Tea club", description="A tin every month")
    every_month = Recurrence(BillingInterval.MONTH)
    monthly = catalogue.create_price(
        db,
        scope,
        product_id=tea.id,
        unit_amount=1_500,
        currency="USD",
        recurring=every_month,
        nickname="Monthly",
    )
    office = catalogue.create_product(db, scope, name="Office tea", description="Per desk")
    seats = catalogue.create_price(
        db,
        scope,
        product_id=office.id,
        unit_amount=800,
        currency="USD",
        recurring=every_month,
        nickname="Per seat",
    )

    def subscriber(name: str, price_id: str, quantity: int = 1, trial: int | None = None) -> str:
        email = f"{name.split()[0].lower()}@example.com"
        customer = records.create_customer(
            db, scope, email=email, name=name, test_clock=demo_clock.id
        )
        payment_methods.attach(db, scope, customer.id, type="card", token="pm_card_visa")
        items = [{"priceId": price_id, "quantity": quantity}]
        made = subscriptions.create_subscription(
            db, scope, customer_id=customer.id, items=items, trial_days=trial
        )
        return made.id

    subscriber("Grace Hopper", monthly.id)
    subscriber("Alan Turing", seats.id, quantity=5)
    failing_later = subscriber("Edsger Dijkstra", monthly.id)
    year_later = start + 365 * 86_400
    clock.advance(db, scope, demo_clock.id, year_later)  # a year of renewals
    subscriber("Katherine Johnson", monthly.id, trial=60)
    edsger = subscriptions.get_subscription(db, scope, failing_later)
    failing = payment_methods.attach(
        db, scope, edsger.customer_id, type="card", token="pm_card_chargeCustomerFail"
    )
    assert failing.payment_method is not None
    subscriptions.set_payment_method(db, scope, edsger.id, failing.payment_method.id)
    renewal = int(edsger.current_period_end.timestamp())
    clock.advance(db, scope, demo_clock.id, renewal + 86_400)  # it fails: past due
