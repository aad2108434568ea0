"""A refund above the merchant's step-up threshold asks for a fresh code, then goes through."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_charge

pytestmark = pytest.mark.e2e


def test_a_large_refund_asks_for_a_fresh_code_then_goes_through(
    app_url, two_factor_owner, console_errors
) -> None:
    # Above $10.00, a refund asks for a fresh code.
    owner = two_factor_owner("Heron Books", step_up_refund_threshold=1_000)
    payment = api_charge(app_url, owner.secret_key, 2500, "reader@example.com")[1]
    page = owner.page

    page.goto(f"{app_url}/payments/{payment['id']}")
    page.get_by_role("button", name="Refund", exact=True).click()
    refund = page.get_by_role("dialog")
    refund.get_by_label("Amount to refund").fill("20")
    refund.get_by_role("button", name="Review refund").click()
    refund.get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Refund this payment")).to_be_visible()
    page.locator("#step-up-code").fill(owner.fresh_code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $20.00")
    expect(page.get_by_text("Partially refunded").first).to_be_visible()
    assert console_errors == []
