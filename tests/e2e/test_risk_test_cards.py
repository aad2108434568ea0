"""The risk test cards as a merchant tries them: the hosted checkout (test mode) says which rule
blocked the payment, and the payment's page in the portal gives its risk signals in words."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot
from tests.e2e.test_checkout import fill_card, new_session, payments_of

pytestmark = pytest.mark.e2e

BLOCKED_MESSAGE = (
    "Test mode: the risk rules blocked this payment (Risk test card: always blocked). "
    "A live customer sees only that the payment could not be accepted."
)


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_block_test_card_in_checkout_then_in_the_portal(
    app_url, api, open_page, signed_in, console_errors, viewport
) -> None:
    session = new_session(api, amountCents=2500)
    page = open_page(viewport)
    page.goto(session["url"])
    fill_card(page, "4100 0000 0000 0019", email=f"tester-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_role("button", name="Pay $25.00").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(BLOCKED_MESSAGE)
    expect(alert).not_to_contain_text("Contact the seller")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-risk-blocked-{viewport}")

    [payment] = payments_of(api, session["id"])
    assert (payment["status"], payment["risk"]["decision"]) == ("failed", "block")
    portal = signed_in(viewport)
    portal.goto(f"{app_url}/payments/{payment['id']}")
    signals = portal.get_by_role("list", name="Risk signals")
    expect(signals).to_have_text("Risk test card: always blocked")
    expect(
        portal.get_by_text("Blocked by the risk rules. Risk test card: always blocked.")
    ).to_be_visible()
    assert not has_horizontal_scroll(portal)
    screenshot(portal, f"payment-risk-blocked-{viewport}")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_elevated_risk_payment_reads_in_words(
    app_url, api, signed_in, console_errors, viewport
) -> None:
    body = {
        "amountCents": 1800,
        "currency": "USD",
        "billingCountry": "GB",  # a US card: a second signal
        # Every demo payment has one (test_payments_pages searches by the newest one's).
        "customerEmail": f"elevated-{uuid.uuid4().hex[:8]}@example.com",
        "paymentMethod": {"type": "card", "token": "pm_card_riskLevelElevated"},
    }
    response = api.post("/api/payments/charge", json=body)
    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert payment["risk"]["decision"] == "review"

    page = signed_in(viewport)
    page.goto(f"{app_url}/payments/{payment['id']}")
    items = page.get_by_role("list", name="Risk signals").get_by_role("listitem")
    expect(items).to_have_text(
        [
            "Risk test card: elevated risk",
            "Card country (United States) differs from billing country (United Kingdom)",
        ]
    )
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-risk-review-{viewport}")
    assert console_errors == []
