"""A payment link that sells a subscription, end to end, at a phone's and a desktop's size: the
merchant makes the link in the portal from a recurring price; a customer opens it, reads the
amount every month, the first payment and the consent in words, and subscribes with the test
card 4242; the merchant sees the subscription (Billing → Subscriptions and its page); the
customer replaces the card through the billing portal link. Screenshots land in
tests/e2e/artifacts/sub-link-*.png."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e

CODES = ("price_", "month_", "recurring", "undefined", "past_due")


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def tea_club(api: httpx.Client) -> str:
    """The merchant's recurring price: Tea club, $15.00 every month."""
    product = ok(api.post("/api/products", json={"name": "Tea club"}), 201)["product"]
    body = {
        "productId": product["id"],
        "unitAmountCents": 1_500,
        "currency": "USD",
        "recurring": {"interval": "month", "intervalCount": 1},
    }
    return ok(api.post("/api/prices", json=body), 201)["price"]["id"]


def fill_card(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("10115")


def no_codes(page, where: str = "main") -> None:  # type: ignore[no-untyped-def]
    text = page.locator(where).inner_text()
    for code in CODES:
        assert code not in text, code
    assert not has_horizontal_scroll(page)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_subscribe_through_a_payment_link(  # type: ignore[no-untyped-def]
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    headers = {"Authorization": f"Bearer {new_merchant['key']}"}
    api = httpx.Client(base_url=app_url, headers=headers, timeout=30)

    # Without a recurring price, the Subscription choice says how to make one.
    merchant = sign_in(
        open_page(viewport), app_url, new_merchant["email"], new_merchant["password"]
    )
    merchant.goto(f"{app_url}/payment-links")
    merchant.get_by_role("button", name="New link", exact=True).click()
    expect(merchant.get_by_role("heading", name="New payment link")).to_be_visible()
    merchant.get_by_role("radio", name="Subscription").click()
    expect(merchant.get_by_text("You have no active recurring price yet")).to_be_visible()
    expect(merchant.get_by_role("link", name="Billing → Products")).to_have_attribute(
        "href", "/billing"
    )
    screenshot(merchant, f"sub-link-no-price-{viewport}")
    merchant.get_by_role("button", name="Cancel").click()

    # With one, the merchant makes the link: the price in words, a quantity limit.
    tea_club(api)
    merchant.reload()
    merchant.get_by_role("button", name="New link", exact=True).click()
    merchant.get_by_label("Name customers see").fill("Tea club")
    merchant.get_by_label("Description (optional)").fill("A tin of loose-leaf tea every month")
    merchant.get_by_role("radio", name="Subscription").click()
    expect(merchant.get_by_label("Recurring price")).to_have_text("Tea club — $15.00 every month")
    expect(merchant.get_by_label("Currency")).to_have_count(0)  # the price's currency
    no_codes(merchant)
    screenshot(merchant, f"sub-link-form-{viewport}")
    merchant.get_by_role("button", name="Save link").click()
    card = merchant.locator(".rt-Card", has_text="Tea club")
    expect(card.get_by_text("Subscription · $15.00 every month")).to_be_visible()
    no_codes(merchant)
    screenshot(merchant, f"sub-link-list-{viewport}")

    # Editing keeps the price (shown in words, not a choice).
    card.get_by_role("button", name="Edit").click()
    expect(merchant.get_by_text("A subscription link keeps its price")).to_be_visible()
    expect(merchant.get_by_text("Tea club — $15.00 every month")).to_be_visible()
    merchant.get_by_label("Most a customer may buy at once").fill("3")
    merchant.get_by_role("button", name="Save link").click()
    expect(card.get_by_text("Subscription · $15.00 every month, up to 3 at once")).to_be_visible()
    url = card.get_by_role("link").inner_text()

    # The customer opens the link and subscribes with the test card.
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    customer = open_page(viewport)
    customer.goto(url)
    expect(customer.locator(".co-total")).to_contain_text("$15.00 every month")
    customer.get_by_label("Quantity").fill("2")
    expect(customer.locator(".co-total")).to_contain_text("$30.00 every month")
    customer.get_by_label("Quantity").fill("1")
    expect(customer.get_by_role("button", name="Continue to subscribe")).to_be_visible()
    no_codes(customer)
    screenshot(customer, f"sub-link-page-{viewport}")
    customer.get_by_role("button", name="Continue to subscribe").click()
    customer.wait_for_url(re.compile(r".*/pay/cs_.*"))
    expect(customer.locator(".co-total")).to_contain_text("$15.00 every month")
    expect(
        customer.get_by_text("Today: $15.00, then $15.00 every month until you cancel.")
    ).to_be_visible()
    expect(customer.locator("#subscribe-consent")).to_have_text(
        "By subscribing you allow Harbour Tea to charge this card $15.00 every month "
        "until you cancel."
    )
    expect(customer.get_by_label("Save this card for future payments")).to_have_count(0)
    customer.get_by_label("E-mail").fill(email)
    fill_card(customer, "4242 4242 4242 4242")
    no_codes(customer)
    screenshot(customer, f"sub-link-checkout-{viewport}")
    customer.get_by_role("button", name="Subscribe").click()
    expect(customer.get_by_role("heading", name="Payment successful")).to_be_visible(timeout=20_000)
    expect(customer.locator("main")).to_contain_text(
        "You are subscribed: $15.00 every month until you cancel."
    )
    no_codes(customer)
    screenshot(customer, f"sub-link-subscribed-{viewport}")

    # One customer, one card saved, one active subscription, its first invoice paid once.
    [found] = ok(api.get("/api/customers", params={"email": email}))["customers"]
    [sub] = ok(api.get("/api/subscriptions", params={"customer": found["id"]}))["subscriptions"]
    assert sub["status"] == "active"
    [invoice] = ok(api.get("/api/invoices", params={"subscription": sub["id"]}))["invoices"]
    assert (invoice["status"], invoice["amountPaidCents"]) == ("paid", 1_500)

    # The merchant sees it: the list, then its page.
    merchant.goto(f"{app_url}/billing/subscriptions")
    table = merchant.locator("main table")
    row = table.get_by_role("row", name=re.compile(email))
    expect(row).to_contain_text("Tea club")
    expect(row).to_contain_text("Active")
    no_codes(merchant)
    screenshot(merchant, f"sub-link-merchant-list-{viewport}")
    row.get_by_role("link", name=f"Subscription of {email}").click()
    merchant.wait_for_url(f"**/billing/subscriptions/{sub['id']}")
    expect(merchant.get_by_role("heading", level=1)).to_contain_text("Tea club")
    expect(merchant.locator("main")).to_contain_text("Visa •••• 4242")
    expect(merchant.locator("main")).to_contain_text("$15.00 every month")
    no_codes(merchant)
    screenshot(merchant, f"sub-link-merchant-detail-{viewport}")

    # The customer replaces the card through their billing portal link.
    portal = ok(api.post("/api/billing_portal/sessions", json={"customerId": found["id"]}), 201)
    customer.goto(portal["session"]["url"])
    subs = customer.get_by_role("region", name="Subscriptions")
    expect(subs).to_contain_text("Tea club", timeout=30_000)
    expect(subs).to_contain_text("$15.00 per month")
    customer.get_by_role("button", name="Add a card").click()
    fill_card(customer, "5555 5555 5555 4444")
    customer.get_by_role("button", name="Save card").click()
    expect(customer.get_by_role("status")).to_contain_text("Your new card is saved")
    expect(subs).to_contain_text("Paid with Mastercard •••• 4444")
    after = ok(api.get(f"/api/subscriptions/{sub['id']}"))["subscription"]
    assert after["defaultPaymentMethod"] != sub["defaultPaymentMethod"]
    no_codes(customer)
    screenshot(customer, f"sub-link-portal-card-replaced-{viewport}")
    api.close()
    assert console_errors == []
