"""The Products page at both widths, as a new merchant's owner: the sidebar's "Billing" item
(in the first screen on a desktop) leads to /billing; a product is created with its first
price, another price is added and one archived, all in words and money ("$12.50 every month",
"every 3 months"), never codes; nothing is wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e

RAW_CODES = ("one_time", "recurring", "interval", "price_", "prod_")


def _in_first_screen(page, locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_products_and_prices(app_url, new_merchant, open_page, console_errors, viewport) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.get_by_role("heading", name="Dashboard").wait_for()
    nav = page
    if viewport == "phone":
        page.get_by_role("button", name="Open menu").click()
        nav = page.get_by_role("dialog")
    billing = nav.get_by_role("navigation", name="Main").get_by_role("link", name="Billing")
    if viewport == "desktop":
        _in_first_screen(page, billing)
        _in_first_screen(page, nav.get_by_role("link", name="Bank account"))
    billing.click()
    page.wait_for_url("**/billing")
    expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Billing").get_by_role("link")).to_have_text(
        ["Products", "Subscriptions", "Invoices"]
    )
    expect(page.locator("main")).to_contain_text("No products yet.")

    page.get_by_role("button", name="New product").click()
    page.get_by_label("Name customers see").fill("Tea club")
    page.get_by_label("Description (optional)").fill("A box of tea every month")
    page.get_by_label("Price (e.g. 12.50)").fill("12.50")
    page.get_by_role("button", name="Create product").click()
    card = page.locator("main").get_by_role("list", name="Prices of Tea club")
    expect(card).to_contain_text("$12.50 every month")
    expect(page.locator("main").get_by_role("status")).to_contain_text("Created “Tea club”")

    page.get_by_role("button", name="Add price").click()
    page.get_by_label("Price (e.g. 12.50)").fill("30")
    page.get_by_label("Every how many").fill("3")
    page.get_by_label("Nickname (optional, e.g. Launch offer)").fill("Quarterly")
    page.get_by_role("button", name="Add price").click()
    expect(card).to_contain_text("$30.00 every 3 months")
    expect(card).to_contain_text("Quarterly")

    page.get_by_role("button", name="Archive the price $12.50 every month").click()
    expect(card.get_by_role("listitem").first).to_contain_text("Archived")
    body = page.locator("main").inner_text()
    for code in RAW_CODES:
        assert code not in body, code
    assert not has_horizontal_scroll(page)
    screenshot(page, f"products-{viewport}")
    assert console_errors == []
