"""The portal in people's words, at both widths: the account menu in the header is in view
without scrolling, the landmarks exist, a partly refunded payment reads "Partially refunded",
its timeline starts with "Payment created", and the audit log speaks money and names."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    VIEWPORTS,
    api_charge,
    has_horizontal_scroll,
    open_account_menu,
    screenshot,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.e2e


def _refund(app_url: str, key: str, payment_id: str, amount: int) -> None:
    request = urllib.request.Request(
        f"{app_url}/api/payments/{payment_id}/refund",
        data=json.dumps({"amountCents": amount, "reason": "requested_by_customer"}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    """Visible inside the first screen, with the page not scrolled."""
    assert page.evaluate("window.scrollY") == 0
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_portal_words(app_url, new_merchant, open_page, console_errors, viewport) -> None:
    status, payment = api_charge(app_url, new_merchant["key"], 5_000, "words@shop.test")
    assert status == 201, payment
    _refund(app_url, new_merchant["key"], payment["id"], 1_234)

    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.get_by_role("heading", name="Dashboard").wait_for()

    # Landmarks.
    expect(page.locator("header")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)
    assert page.locator("nav").count() >= 1
    screenshot(page, f"words-dashboard-{viewport}")

    # The account menu: in the header, in view without scrolling, with the account's items.
    trigger = page.get_by_role("banner").get_by_role("button", name="Account menu")
    _in_view(page, trigger)
    menu = open_account_menu(page)
    expect(menu).to_contain_text(new_merchant["email"])
    expect(menu).to_contain_text("Harbour Tea · Owner")
    for item in ("Security", "Your sessions", "Sign out"):
        _in_view(page, menu.get_by_role("menuitem", name=item))
    screenshot(page, f"words-account-menu-{viewport}")
    menu.get_by_role("menuitem", name="Security").click()
    page.wait_for_url("**/settings/security")
    # ... and no longer at the foot of the sidebar.
    expect(page.get_by_role("navigation").get_by_text("Sign out")).to_have_count(0)
    expect(page.get_by_role("navigation").get_by_text("Your sessions")).to_have_count(0)
    if viewport == "desktop":  # the whole sidebar fits the first screen too
        page.mouse.wheel(0, 0)
        _in_view(page, page.get_by_role("navigation").get_by_role("link", name="Bank account"))
        docs = page.get_by_role("navigation").get_by_role("link", name="API reference")
        expect(docs).to_have_attribute("href", "/api/docs")
        expect(docs).to_have_attribute("target", "_blank")

    # The payments list and the payment in words.
    page.goto(f"{app_url}/payments")
    row = page.locator("table tbody tr").filter(has_text="$50.00").first
    expect(row).to_contain_text("Partially refunded")
    expect(page.locator("main")).not_to_contain_text("partially_refunded")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"words-payments-{viewport}")

    page.goto(f"{app_url}/payments/{payment['id']}")
    timeline = page.get_by_role("list", name="Timeline")
    entries = timeline.get_by_role("listitem")
    expect(entries.first).to_contain_text("Payment created")
    expect(entries.first).to_contain_text("$50.00")
    expect(timeline).to_contain_text("Payment refunded")
    expect(timeline).to_contain_text("$12.34")
    expect(timeline).to_contain_text("API key sk_test_")
    expect(timeline).not_to_contain_text("team member")
    expect(page.locator("main")).not_to_contain_text("payment.")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"words-payment-{viewport}")

    page.goto(f"{app_url}/audit-log")
    refunded = page.get_by_role("listitem").filter(has_text="Payment refunded").first
    expect(refunded).to_contain_text("Amount: $12.34")
    expect(refunded).to_contain_text("Status: Partially refunded")
    expect(refunded).to_contain_text("by API key sk_test_")
    expect(page.locator("main")).not_to_contain_text("payment.refunded")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"words-audit-log-{viewport}")

    sign_out(page)
    assert console_errors == []
