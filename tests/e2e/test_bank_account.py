"""The payout bank account as an owner connects it (the Plaid sandbox twin), and the dashboard's
set-up checklist that leads there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_owner_connects_replaces_and_removes_the_payout_account(
    app_url, two_factor_owner, console_errors, viewport
) -> None:
    owner = two_factor_owner("Fjord Coffee", viewport)
    page = owner.page
    checklist = page.locator(".rt-Card").filter(
        has=page.get_by_role("heading", name="Get ready for live payments")
    )
    expect(checklist.get_by_text("2 of 4 done")).to_be_visible()
    expect(checklist.get_by_text("Verify your mobile number")).to_be_visible()
    screenshot(page, f"onboarding-checklist-{viewport}")
    checklist.get_by_role("link").filter(has_text="Set up").last.click()
    page.wait_for_url("**/settings/bank")
    expect(page.get_by_text("No bank account is connected yet.")).to_be_visible()

    # Changing where the money goes asks for a fresh code first.
    page.get_by_role("button", name="Connect a bank account").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Change the payout bank account")).to_be_visible()
    page.locator("#step-up-code").fill(owner.fresh_code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("no real bank is contacted")).to_be_visible()
    screenshot(page, f"bank-picker-{viewport}")
    page.get_by_label("Bank and account").select_option(
        label="First Gingham Credit Union: Plaid Saving ••1111"
    )
    page.get_by_role("button", name="Connect this account").click()
    expect(page.get_by_text("Connected and verified")).to_be_visible()
    expect(page.get_by_role("heading", name="First Gingham Credit Union")).to_be_visible()
    expect(page.get_by_text("Savings ••1111")).to_be_visible()
    expect(page.get_by_text("1111222233331111")).to_have_count(0)  # never the whole number
    assert not has_horizontal_scroll(page)
    screenshot(page, f"bank-account-{viewport}")

    # Replacing it within the step-up window needs no second code.
    page.get_by_role("button", name="Replace account").click()
    page.get_by_label("Bank and account").select_option(
        label="First Platypus Bank: Plaid Checking ••0000"
    )
    page.get_by_role("button", name="Connect this account").click()
    expect(page.get_by_role("heading", name="First Platypus Bank")).to_be_visible()
    expect(page.get_by_text("Checking ••0000")).to_be_visible()

    page.goto(f"{app_url}/dashboard")
    expect(checklist.get_by_text("3 of 4 done")).to_be_visible()

    page.goto(f"{app_url}/settings/bank")
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_text("Payouts stop until another one is connected")).to_be_visible()
    page.get_by_role("button", name="Remove account").click()
    expect(page.get_by_text("No bank account is connected yet.")).to_be_visible()
    assert console_errors == []
