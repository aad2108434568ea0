"""Paying with PayPal on the hosted checkout, on a phone and at a desk: without PayPal keys the
approval step is PayPal's offline twin (approve / cancel on the page), as `make run` shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot
from tests.e2e.test_checkout import new_session, payments_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    import httpx

    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pay_with_paypal_twin(api, open_page, console_errors, viewport) -> None:  # type: ignore[no-untyped-def]
    session = new_session(api, paymentMethods=["card", "paypal"])
    page = open_page(viewport)
    page.goto(session["url"])
    paypal = page.get_by_role("button", name="Pay with PayPal")
    expect(paypal).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-paypal-choice-{viewport}")

    # Cancel at "PayPal": back to the form, told so, nothing charged.
    paypal.click()
    expect(page.get_by_role("heading", name="Approve with PayPal")).to_be_visible()
    expect(page.get_by_text("this page stands in for PayPal")).to_be_visible()
    screenshot(page, f"checkout-paypal-twin-{viewport}")
    page.get_by_role("button", name="Cancel and choose another way to pay").click()
    expect(page.get_by_text("The PayPal payment was cancelled")).to_be_visible()

    # Then approve: the receipt, and a PayPal payment for the merchant.
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("button", name="Approve with PayPal").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-paypal-paid-{viewport}")
    payments = payments_of(api, session["id"])
    methods = sorted((p["status"], p["paymentMethod"]["type"]) for p in payments)
    assert methods == [("failed", "paypal"), ("succeeded", "paypal")]
    assert not console_errors
