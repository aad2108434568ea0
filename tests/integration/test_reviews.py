"""Closing the review of a flagged payment: once, either way, in the merchant's own scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import AuditLog, Merchant, Payment
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.payments import reviews
from backend.services.reporting import exports, payment_list
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant

REVIEWER = Actor(ActorType.USER, "usr_reviewer", "198.51.100.7")


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def flagging_shop(client: TestClient) -> Shop:
    """A merchant whose review score is 0: every payment it takes is flagged for review."""
    shop = new_merchant(client)
    with session_scope() as db:
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        merchant.risk_review_score = 0
        db.add(merchant)
    return shop


def charged(shop: Shop) -> str:
    response = shop.charge()
    assert response.status_code == 201, response.text
    return response.json()["payment"]["id"]


def unreviewed(shop: Shop) -> list[str]:
    filters = exports.filters_from_query({"risk": "unreviewed"}, "UTC")
    with session_scope(readonly=True) as db:
        page = payment_list.search_payments(
            db, merchant_id=shop.merchant_id, livemode=False, filters=filters
        )
    return [p.id for p in page.payments]


def close(shop: Shop, payment_id: str, outcome: str) -> Payment:
    with session_scope() as db:
        return reviews.close(
            db, Scope(shop.merchant_id, False), payment_id, outcome, actor=REVIEWER
        )


def test_a_review_closes_once_and_leaves_the_open_list(client: TestClient):
    shop = flagging_shop(client)
    first, second = charged(shop), charged(shop)
    assert set(unreviewed(shop)) == {first, second}

    closed = close(shop, first, "approved")
    assert (closed.review_outcome, closed.reviewed_by) == ("approved", REVIEWER.id)
    assert unreviewed(shop) == [second]
    close(shop, second, "fraudulent")
    assert unreviewed(shop) == []

    with pytest.raises(Conflict, match="already closed: approved"):
        close(shop, first, "fraudulent")
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, first)
        assert payment is not None and payment.review_outcome == "approved"
        actions = db.exec(
            select(AuditLog.action, AuditLog.ip_address).where(
                AuditLog.object_id.in_([first, second])  # type: ignore[union-attr]
            )
        ).all()
    assert ("payment.review_approved", "198.51.100.7") in actions
    assert ("payment.review_fraudulent", "198.51.100.7") in actions


def test_refusals_change_nothing(client: TestClient):
    shop = flagging_shop(client)
    flagged = charged(shop)
    allowed = charged(new_merchant(client))  # a default review score: allowed
    with pytest.raises(ValidationFailed, match="approved or fraudulent"):
        close(shop, flagged, "maybe")
    with pytest.raises(NotFound):  # another merchant's payment is not found, not refused
        close(shop, allowed, "approved")
    other = flagging_shop(client)
    with pytest.raises(NotFound):
        close(other, flagged, "approved")
    with session_scope() as db:
        payment = db.get(Payment, allowed)
        assert payment is not None and payment.risk_decision == "allow"
        with pytest.raises(Conflict, match="not flagged for review"):
            reviews.close(
                db,
                Scope(payment.merchant_id, False),
                allowed,
                "approved",
                actor=REVIEWER,
            )
    assert unreviewed(shop) == [flagged]
    with pytest.raises(ValidationFailed, match="Unknown risk filter"):
        exports.filters_from_query({"risk": "bogus"}, "UTC")


def test_the_rest_api_closes_a_review_once_and_replays_its_answer(client: TestClient):
    shop = flagging_shop(client)
    flagged = charged(shop)
    assert shop.get(f"/api/payments/{flagged}").json()["payment"]["risk"]["review"] == "open"
    path = f"/api/payments/{flagged}/review"

    for bad in ({"outcome": "maybe"}, {"outcome": 1}, {}, {"outcome": "approved", "x": 1}):
        refused = shop.post(path, bad, key=f"bad-{len(str(bad))}-{bad.get('outcome')}")
        assert refused.status_code in (400, 422), refused.text
    assert unreviewed(shop) == [flagged]

    first = shop.post(path, {"outcome": "approved"}, key="review-1")
    assert first.status_code == 200, first.text
    risk = first.json()["payment"]["risk"]
    assert risk["review"] == "approved" and risk["reviewedAt"]
    again = shop.post(path, {"outcome": "approved"}, key="review-1")  # a retried request
    assert (again.status_code, again.json()) == (200, first.json())
    closed = shop.post(path, {"outcome": "fraudulent"}, key="review-2")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "review_closed"

    other = new_merchant(client)
    hidden = other.post(path, {"outcome": "fraudulent"}, key="review-3")
    assert hidden.status_code == 404
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, flagged)
        assert payment is not None and payment.review_outcome == "approved"
