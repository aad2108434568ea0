"""What a payment's timeline and the audit log say, in words people use: the timeline starts
with the payment's creation, amounts read as money, the actor is a name, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import AuditLog, Merchant, Payment, User
from backend.models.enums import Role
from backend.services.identity import sessions
from backend.services.payments import refund_limits
from backend.services.reporting import audit_log, payment_detail
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.integration.identity_support import member


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client)


def _paid_and_partly_refunded(shop: Shop) -> tuple[str, str]:
    """A $50.00 payment of which a named admin refunded $12.34: (payment id, admin's name)."""
    response = shop.charge(amount=5_000)
    assert response.status_code == 201, response.text
    payment_id = response.json()["payment"]["id"]
    admin = member(shop.merchant_id, Role.ADMIN)
    with session_scope() as db:
        user = db.get(User, admin.user_id)
        assert user is not None
        user.full_name = "Ada Lovelace"
        db.add(user)
    refund_limits.refund(
        admin, payment_id, amount=1_234, reason="requested_by_customer", ip_address=None
    )
    return payment_id, "Ada Lovelace"


def test_the_timeline_starts_with_the_creation_and_speaks_money(shop: Shop) -> None:
    payment_id, name = _paid_and_partly_refunded(shop)
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        timeline = payment_detail.payment_timeline(db, payment)
    assert timeline[0].title == "Payment created"
    assert timeline[0].detail == "$50.00"
    refunded = next(e for e in timeline if e.title == "Payment refunded")
    assert refunded.detail == "$12.34 · Partially refunded"
    assert refunded.actor == name
    by_key = next(e for e in timeline if e.title == "Payment succeeded")
    assert by_key.actor.startswith("API key sk_test_")
    text = " ".join(f"{e.title} {e.detail} {e.actor}" for e in timeline)
    assert "_" not in text.replace(by_key.actor, "")  # no codes, bar the key's visible part
    assert "team member" not in text


def test_the_timeline_starts_with_the_creation_even_when_something_came_first(
    shop: Shop,
) -> None:
    """A row stamped before the payment (clock skew, an import) still follows its creation."""
    payment_id, _ = _paid_and_partly_refunded(shop)
    with session_scope() as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        for row in db.exec(select(AuditLog).where(AuditLog.object_id == payment_id)):
            row.created_at = payment.created_at.replace(year=payment.created_at.year - 1)
            db.add(row)
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        titles = [e.title for e in payment_detail.payment_timeline(db, payment)]
    assert titles[0] == "Payment created" and titles.count("Payment created") == 1


def test_the_audit_log_shows_money_names_and_actions_in_words(shop: Shop) -> None:
    payment_id, name = _paid_and_partly_refunded(shop)
    with session_scope(readonly=True) as db:
        page = audit_log.search(db, merchant_id=shop.merchant_id, filters=audit_log.parse_filters())
    refunded = next(
        e for e in page.entries if e.action == "payment.refunded" and e.object_id == payment_id
    )
    assert refunded.action_label == "Payment refunded"
    assert refunded.actor == name
    assert "Amount: $12.34" in refunded.summary
    assert "Status: Partially refunded" in refunded.summary
    assert refunded.object_label == f"Payment {payment_id}"
    succeeded = next(e for e in page.entries if e.action == "payment.succeeded")
    assert succeeded.actor.startswith("API key sk_test_")


def test_describe_formats_amounts_and_roles() -> None:
    assert audit_log.describe({"amount": 500, "currency": "JPY"}) == "Amount: ¥500"
    assert audit_log.describe({"amount": 1_234}, "USD") == "Amount: $12.34"
    assert (
        audit_log.describe({"email": "a@b.test", "from": "analyst", "to": "support"})
        == "Email: a@b.test · From: Analyst · To: Support"
    )


def test_what_a_member_can_refund_is_the_lower_of_the_payment_and_the_limit(shop: Shop) -> None:
    """The refund form's hint: support sees what its limit leaves, an admin all that remains."""
    with session_scope() as db:
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        merchant.support_refund_limit = 2_000  # $20.00
        db.add(merchant)
    response = shop.charge(amount=5_000)
    assert response.status_code == 201, response.text
    payment_id = response.json()["payment"]["id"]
    support = member(shop.merchant_id, Role.SUPPORT)
    admin = member(shop.merchant_id, Role.ADMIN)
    analyst = member(shop.merchant_id, Role.ANALYST)

    def can_refund(ctx: sessions.SessionContext) -> tuple[int, bool]:
        with session_scope(readonly=True) as db:
            payment = db.get(Payment, payment_id)
            assert payment is not None
        return refund_limits.refundable(ctx, payment)

    assert can_refund(support) == (2_000, True)
    assert can_refund(admin) == (5_000, False)
    assert can_refund(analyst) == (0, True)
    refund_limits.refund(support, payment_id, amount=1_500, reason=None, ip_address=None)
    assert can_refund(support) == (500, True)  # $15.00 of its $20.00 used on this payment
    refund_limits.refund(admin, payment_id, amount=3_000, reason=None, ip_address=None)
    assert can_refund(admin) == (500, False)  # only $5.00 of the payment remains
    assert can_refund(support) == (0, True)  # the payment's refunds are past the limit
