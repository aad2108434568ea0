"""Finding a payment and reading it, as a merchant does on a phone and at a desk."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_search_a_payment_and_open_it(app_url, signed_in, console_errors, viewport) -> None:
    page = signed_in(viewport)
    page.goto(f"{app_url}/payments")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(25)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(50)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payments-{viewport}")

    page.get_by_label("Status").click()
    page.get_by_role("option", name="Refunded", exact=True).click()
    expect(rows.first.get_by_text("Refunded", exact=True)).to_be_visible()

    first_amount = rows.first.get_by_role("link")
    first_amount.click()
    page.wait_for_url("**/payments/pay_*")
    expect(page.get_by_role("heading", name="Money")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(".")  # an amount, loaded
    expect(page.get_by_text("Platform fee")).to_be_visible()
    expect(page.get_by_text("Net to you")).to_be_visible()
    expect(page.get_by_text("refund", exact=False).first).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-detail-{viewport}")
    assert console_errors == []


def test_search_by_email_and_unknown_ids(app_url, signed_in) -> None:
    page = signed_in("desktop")
    page.goto(f"{app_url}/payments")
    # The newest payment that has an e-mail (other browser tests may have paid without one).
    cells = page.locator("table tbody tr td:nth-child(3)")
    expect(cells.first).to_be_visible()
    email = next(text for text in cells.all_inner_texts() if "@" in text)
    page.get_by_label("Search payments").fill(email.upper())
    page.get_by_role("button", name="Search").click()
    # Every row left is that customer's (the e-mail matched whatever its case).
    page.wait_for_function(
        """email => {
            const rows = [...document.querySelectorAll('table tbody tr')];
            return rows.length > 0 && rows.every(r => r.innerText.includes(email));
        }""",
        arg=email,
    )
    page.goto(f"{app_url}/payments/pay_does_not_exist")
    expect(page.get_by_role("heading", name="Payment not found")).to_be_visible()
