"""A property of the engine, not only of the proration arithmetic: whatever quantity changes a
subscription goes through in a period, at whatever moments, what the customer is billed for
that period (its first invoice plus the proration lines on the next) is what the time at each
quantity cost, to within one minor unit per change, in integer minor units; and the renewal
bills the last quantity in full. On SQLite (the arithmetic does not depend on the database)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api_client import Merchant, new_merchant
from tests.integration.billing_support import (
    advance,
    clock_customer,
    invoices_of,
    ok,
    plan,
    subscribe,
)

APRIL = int(datetime(2025, 4, 1, tzinfo=UTC).timestamp())
PERIOD = 30 * 86_400  # April 1 to May 1


@pytest.fixture
def shop(db_engine: object, monkeypatch: pytest.MonkeyPatch) -> Merchant:
    from backend.api import create_app
    from tests.conftest import _reset_caches

    monkeypatch.setenv("DATABASE_URL", str(db_engine.url))  # type: ignore[attr-defined]
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    _reset_caches()
    return new_merchant(TestClient(create_app()), "Proration Shop")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.integers(1, 1_000_000),
    first=st.integers(1, 5),
    changes=st.lists(
        st.tuples(st.integers(1, PERIOD - 1), st.integers(1, 5)), min_size=1, max_size=4
    ),
)
def test_any_changes_bill_the_time_at_each_quantity(
    shop: Merchant, amount: int, first: int, changes: list[tuple[int, int]]
) -> None:
    moments = sorted({offset for offset, _ in changes})
    quantities = [quantity for _, quantity in changes][: len(moments)]
    clock, customer = clock_customer(shop, at=APRIL)
    price = plan(shop, amount)
    sub = ok(
        shop.post(
            "/api/subscriptions",
            {"customerId": customer, "items": [{"priceId": price, "quantity": first}]},
        ),
        201,
    )["subscription"]
    for offset, quantity in zip(moments, quantities, strict=True):
        advance(shop, clock, APRIL + offset)
        body = {"items": [{"priceId": price, "quantity": quantity}]}
        ok(shop.post(f"/api/subscriptions/{sub['id']}", body))
    advance(shop, clock, APRIL + PERIOD + 60)

    found = invoices_of(shop, sub["id"])
    assert [i["status"] for i in found] == ["paid", "paid"]
    renewal_lines = found[1]["lines"]
    prorations = [line["amountCents"] for line in renewal_lines if line["proration"]]
    full = [line["amountCents"] for line in renewal_lines if not line["proration"]]
    billed = found[0]["totalCents"] + sum(prorations)

    runs = list(zip([0, *moments], [*moments, PERIOD], [first, *quantities], strict=True))
    exact = sum(Fraction(q * amount * (end - start), PERIOD) for start, end, q in runs)
    assert abs(billed - exact) <= len(moments)
    assert all(isinstance(value, int) for value in prorations)
    assert full == [quantities[-1] * amount]
    assert found[1]["totalCents"] == sum(prorations) + quantities[-1] * amount
    # Nothing is made or lost: each invoice's total is its lines' sum.
    for invoice in found:
        assert invoice["totalCents"] == sum(line["amountCents"] for line in invoice["lines"])


def test_a_subscription_made_of_unchanged_quantities_bills_exactly(shop: Merchant) -> None:
    """The property's baseline: no change, no proration line."""
    clock, customer = clock_customer(shop, at=APRIL)
    sub = subscribe(shop, customer, plan(shop, 999))
    ok(
        shop.post(
            f"/api/subscriptions/{sub['id']}",
            {"items": [{"priceId": sub["items"][0]["priceId"], "quantity": 1}]},
        )
    )
    advance(shop, clock, APRIL + PERIOD + 60)
    found = invoices_of(shop, sub["id"])
    assert [line["proration"] for line in found[1]["lines"]] == [False]
