"""The booking path's money rules, as properties: whatever sequence of captures, refunds and
refund reversals a payment goes through, fees + net always equal what the merchant still holds
of it, the platform fee handed back never exceeds the fee taken, and the statuses follow the
amounts."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from backend.models import Order, Payment, utcnow
from backend.models.enums import OrderStatus, PaymentStatus, RefundStatus
from backend.services.context import SYSTEM, Scope
from backend.services.identity import accounts
from backend.services.payments import booking, orders
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule

PLATFORM = FeeSchedule(29_000, {"USD": 30})


def _captured(db: Session, amount: int, returns_fee: bool) -> tuple[Payment, Order]:
    created = accounts.create_merchant(
        db, email=f"b-{uuid.uuid4().hex[:8]}@shop.test", password="a long passphrase 1"
    )
    created.merchant.refund_returns_platform_fee = returns_fee
    db.add(created.merchant)
    scope = Scope(created.merchant.id, False)
    order = orders.create_order(db, scope, amount=amount, currency="USD")
    payment = Payment(
        id=f"pay_{uuid.uuid4().hex[:20]}",
        merchant_id=scope.merchant_id,
        livemode=False,
        order_id=order.id,
        currency="USD",
        amount=amount,
        gateway="sandbox",
    )  # type: ignore[call-arg]
    db.add(payment)
    db.flush()
    booking.capture(db, order, payment, amount, PLATFORM, STRIPE_DEFAULT, SYSTEM, utcnow())
    db.flush()
    return payment, order


def _holds(payment: Payment) -> int:
    return payment.amount_captured - payment.amount_refunded


def _check(payment: Payment, order: Order, original_fee: int, returns_fee: bool) -> None:
    assert payment.platform_fee + payment.gateway_fee + payment.net_amount == _holds(payment)
    assert 0 <= payment.platform_fee <= original_fee
    if not returns_fee:
        assert payment.platform_fee == original_fee
    elif payment.amount_refunded == payment.amount_captured:
        assert payment.platform_fee == 0  # a whole refund hands back the whole fee, exactly
    if payment.amount_refunded == 0:
        assert (payment.status, order.status) == (PaymentStatus.SUCCEEDED, OrderStatus.PAID)
    elif payment.amount_refunded == payment.amount_captured:
        assert (payment.status, order.status) == (PaymentStatus.REFUNDED, OrderStatus.REFUNDED)
    else:
        assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
        assert order.status == OrderStatus.PARTIALLY_REFUNDED


# Each step refunds a share (in thousandths) of what remains; a step may later be reversed.
steps = st.lists(
    st.tuples(st.integers(1, 1000), st.booleans(), st.booleans()), min_size=1, max_size=8
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=st.integers(50, 5_000_000), plan=steps, returns_fee=st.booleans())
def test_refunds_and_reversals_keep_fees_and_net_equal_to_what_is_held(
    db: Session, amount: int, plan: list[tuple[int, bool, bool]], returns_fee: bool
) -> None:
    payment, order = _captured(db, amount, returns_fee)
    original_fee = payment.platform_fee
    assert payment.gateway_fee + payment.platform_fee <= amount
    _check(payment, order, original_fee, returns_fee)
    booked = []
    for share, pending, reverse_later in plan:
        left = _holds(payment)
        if left == 0:
            break
        refund = booking.new_refund(payment, max(1, left * share // 1000), reason=None)
        db.add(refund)
        db.flush()
        booking.book_refund(db, payment, refund, SYSTEM, pending=pending)
        _check(payment, order, original_fee, returns_fee)
        if reverse_later:
            booked.append(refund)
    for refund in booked:
        booking.reverse_refund(db, payment, refund, RefundStatus.FAILED, "declined", SYSTEM)
        assert refund.platform_fee_refunded == 0
        _check(payment, order, original_fee, returns_fee)
    # What was handed back equals the fee taken less what the platform still holds.
    kept = [r for r in booking.refunds_of(db, payment.id) if r.status in booking.BOOKED_REFUND]
    assert original_fee - payment.platform_fee == sum(r.platform_fee_refunded for r in kept)
    assert payment.amount_refunded == sum(r.amount for r in kept)
    db.rollback()


def test_a_void_and_a_failure_leave_no_fees(db: Session) -> None:
    payment, _order = _captured(db, 10_000, True)
    other = Payment(
        id="pay_void_test_0001",
        merchant_id=payment.merchant_id,
        livemode=False,
        currency="USD",
        amount=10_000,
        gateway="sandbox",
    )  # type: ignore[call-arg]
    db.add(other)
    db.flush()
    booking.authorize(db, other, 10_000, PLATFORM, STRIPE_DEFAULT, SYSTEM, utcnow())
    assert other.platform_fee > 0 and other.status == PaymentStatus.AUTHORIZED
    booking.void(db, other, SYSTEM, utcnow())
    assert (other.platform_fee, other.gateway_fee, other.net_amount) == (0, 0, 0)
    assert other.status == PaymentStatus.VOIDED
    db.rollback()
