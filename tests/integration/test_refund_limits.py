"""Refunds by team members: the support limit and the step-up threshold count the running totals
(per payment, and per member per day in the merchant's time zone), on SQLite and PostgreSQL,
and two slices sent at once cannot both slip under them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import PermissionDenied
from backend.models import MemberRefundDay, Merchant, Payment, Refund
from backend.models.enums import Role
from backend.services.identity import permissions, step_up
from backend.services.identity.sessions import SessionContext
from backend.services.payments import refund_limits
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.integration.identity_support import fresh, member

LIMIT = 10_000  # $100.00 for support
THRESHOLD = 10_000  # a fresh code above $100.00


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    shop = new_merchant(client)
    with session_scope() as db:
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        merchant.support_refund_limit = LIMIT
        merchant.step_up_refund_threshold = 10**9  # out of the way unless a test lowers it
        merchant.timezone = "America/Los_Angeles"
        db.add(merchant)
    return shop


def threshold(shop: Shop, value: int) -> None:
    with session_scope() as db:
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        merchant.step_up_refund_threshold = value
        db.add(merchant)


def paid(shop: Shop, amount: int = 30_000) -> str:
    response = shop.charge(amount=amount)
    assert response.status_code == 201, response.text
    return response.json()["payment"]["id"]


def refund(ctx: SessionContext, payment_id: str, amount: int, **kwargs: object) -> Refund:
    return refund_limits.refund(
        ctx, payment_id, amount=amount, reason="requested_by_customer", ip_address=None, **kwargs
    )


def refunded(payment_id: str) -> int:
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        return payment.amount_refunded


def test_support_cannot_slice_past_its_limit_on_a_payment(shop: Shop) -> None:
    support = member(shop.merchant_id, Role.SUPPORT)
    payment = paid(shop)
    with pytest.raises(PermissionDenied, match=r"up to \$100\.00"):
        refund(support, payment, LIMIT + 1)  # one refund of the whole
    assert refund(support, payment, 6_000).status == "succeeded"
    with pytest.raises(PermissionDenied, match=r"\$40\.00 of it is left on this payment"):
        refund(support, payment, 5_000)  # the same, in slices
    assert refund(support, payment, 4_000).status == "succeeded"
    with pytest.raises(PermissionDenied, match=r"\$0\.00 of it is left on this payment"):
        refund(support, payment, 1)
    assert refunded(payment) == LIMIT


def test_what_others_refunded_on_the_payment_counts(shop: Shop) -> None:
    support = member(shop.merchant_id, Role.SUPPORT)
    payment = paid(shop)
    # The merchant's integration refunds $90.00 through the API.
    assert shop.post(f"/api/payments/{payment}/refund", {"amountCents": 9_000}).status_code == 200
    review = refund_limits.review(support, payment, "10", "en_US")
    assert (review.amount, review.needs_step_up) == (1_000, False)
    with pytest.raises(PermissionDenied, match=r"\$10\.00 of it is left on this payment"):
        refund_limits.review(support, payment, "10.01", "en_US")
    with pytest.raises(PermissionDenied, match=r"\$10\.00 of it is left on this payment"):
        refund(support, payment, 1_001)
    assert refund(support, payment, 1_000).status == "succeeded"


def test_support_limit_counts_the_members_day_across_payments(shop: Shop) -> None:
    support, colleague = (
        member(shop.merchant_id, Role.SUPPORT),
        member(shop.merchant_id, Role.SUPPORT),
    )
    first, second = paid(shop), paid(shop)
    # 23:30 on 1 March in Los Angeles is 07:30 UTC on 2 March.
    evening = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    refund(support, first, 6_000, now=evening)
    with pytest.raises(PermissionDenied, match=r"you have \$40\.00 of it left today"):
        refund(support, second, 5_000, now=evening + timedelta(minutes=20))
    assert refund(colleague, second, 5_000, now=evening).status == "succeeded"  # per member
    # Forty minutes later it is 2 March in Los Angeles: a new day for the member.
    assert refund(support, second, 5_000, now=evening + timedelta(minutes=40)).status == "succeeded"
    with session_scope(readonly=True) as db:
        days = db.exec(
            select(MemberRefundDay).where(MemberRefundDay.user_id == support.user_id)
        ).all()
    assert sorted((str(d.day), d.amount) for d in days) == [
        ("2026-03-01", 6_000),
        ("2026-03-02", 5_000),
    ]


def test_step_up_is_asked_once_the_running_total_passes_the_threshold(shop: Shop) -> None:
    threshold(shop, THRESHOLD)
    owner = member(shop.merchant_id, Role.OWNER)
    first, second = paid(shop), paid(shop)
    assert refund(owner, first, 6_000).status == "succeeded"
    assert refund_limits.review(owner, first, "50", "en_US").needs_step_up
    with pytest.raises(step_up.StepUpRequired):
        refund(owner, first, 5_000)  # the payment's total: $110.00
    with pytest.raises(step_up.StepUpRequired):
        refund(owner, second, 5_000)  # the owner's day: $110.00, on another payment
    assert refunded(first) == 6_000 and refunded(second) == 0
    fresh(owner)
    assert refund(owner, first, 5_000).status == "succeeded"
    assert refund(owner, second, 5_000).status == "succeeded"


def test_a_refusal_changes_nothing(shop: Shop) -> None:
    support = member(shop.merchant_id, Role.SUPPORT)
    payment = paid(shop)
    refund(support, payment, 9_000)
    with pytest.raises(PermissionDenied):
        refund(support, payment, 2_000)
    with session_scope(readonly=True) as db:
        refunds = db.exec(select(Refund).where(Refund.payment_id == payment)).all()
        day = db.exec(
            select(MemberRefundDay).where(MemberRefundDay.user_id == support.user_id)
        ).one()
    assert [r.amount for r in refunds] == [9_000]
    assert day.amount == 9_000


@pytest.mark.parametrize("same_payment", [True, False], ids=["one-payment", "two-payments"])
def test_two_slices_at_once_cannot_both_pass(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, same_payment: bool
) -> None:
    """Each refund waits (at most a second) for the other to reach the limit check too: without
    the row locks both would read the same totals and both pass."""
    support = member(shop.merchant_id, Role.SUPPORT)
    refund(support, paid(shop), 1_000)  # the member's row for the day exists: nothing to insert
    first = paid(shop)
    second = first if same_payment else paid(shop)
    both_checking = threading.Barrier(2)
    check = permissions.require_refund

    def racing_check(*args: object) -> None:
        # Times out when the other one is held at its lock, as it should be.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checking.wait(timeout=1)
        check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(permissions, "require_refund", racing_check)

    def attempt(payment_id: str) -> str:
        try:
            return refund(support, payment_id, 5_000).status
        except PermissionDenied:
            return "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, [first, second]))
    assert outcomes == ["refused", "succeeded"]
    assert refunded(first) + (0 if same_payment else refunded(second)) == 5_000
