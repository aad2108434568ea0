"""The Customers pages as a merchant uses them, at both viewports: a new customer from the
form, a card saved for it through the API, the default badge, an edit, the card removed and
the customer deleted, each after its confirm step."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e


def save_card(app_url: str, key: str, customer_id: str, token: str) -> None:
    request = urllib.request.Request(
        f"{app_url}/api/customers/{customer_id}/payment_methods",
        data=json.dumps({"type": "card", "token": token}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_new_customer_saved_cards_edit_and_delete(
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.goto(f"{app_url}/customers")
    page.get_by_role("button", name="New customer").click()
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Name (optional)").fill("Ada Lovelace")
    page.get_by_label("City").fill("London")
    page.get_by_label("Country (two letters, e.g. US)").fill("GB")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customers-new-{viewport}")
    page.get_by_role("button", name="Create customer").click()
    page.wait_for_url("**/customers/cus_*")
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_text("No saved cards.")).to_be_visible()

    customer_id = page.url.rstrip("/").rsplit("/", 1)[1]
    save_card(app_url, new_merchant["key"], customer_id, "pm_card_visa")
    save_card(app_url, new_merchant["key"], customer_id, "4000002760003184")
    page.reload()
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    expect(page.get_by_text("Default", exact=True)).to_have_count(1)
    expect(page.get_by_text("Your customer confirms each charge with their bank")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customers-detail-{viewport}")

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Name (optional)").fill("Ada King")
    page.get_by_role("button", name="Save customer").click()
    expect(page.get_by_role("heading", name="Ada King")).to_be_visible()

    page.get_by_role("button", name="Make default").click()
    expect(page.get_by_text("Default card changed.")).to_be_visible()
    page.get_by_role("button", name="Remove").first.click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    screenshot(page, f"customers-remove-card-{viewport}")
    page.get_by_role("button", name="Remove card").click()
    expect(page.get_by_text("The card was removed")).to_be_visible()
    expect(page.get_by_text("Visa •••• 3184")).to_have_count(0)

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete customer").click()
    page.wait_for_url("**/customers{,/}")
    page.get_by_label("Search customers").fill(email)
    page.get_by_label("Search customers").press("Enter")
    expect(page.get_by_text("No customer matches.", exact=False)).to_be_visible()
    assert not console_errors, console_errors
