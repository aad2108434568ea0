"""The billing pages at both viewports, as a new merchant's owner with three subscriptions
made through the REST API (active with quantity 2, past due after a failed renewal on a test
clock, trialing): the Subscriptions list in words ("Past due", never "past_due") and its
status filter, a subscription's page (items, facts, invoices, timeline) with a quantity
change and a cancellation at period end, the Invoices list and a failed renewal's page
(a retry that is declined, then written off), the customer's subscriptions and the
dashboard's billing figures; nothing wider than the screen, screenshots of each."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e

RAW = ("past_due", "trialing", "subscription_cycle", "subscription_create", "incomplete_")


def api(app_url: str, key: str, path: str, body: dict[str, Any] | None = None) -> dict:
    request = urllib.request.Request(
        f"{app_url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def billing_data(app_url: str, key: str) -> dict[str, str]:
    """Ada: Pro plan x 2, active; Ben: past due on a test clock; Cy: trialing a yearly plan."""

    def price(name: str, amount: int, interval: str) -> str:
        product = api(app_url, key, "/api/products", {"name": name})["product"]["id"]
        body = {
            "productId": product,
            "unitAmountCents": amount,
            "currency": "USD",
            "recurring": {"interval": interval, "intervalCount": 1},
        }
        return api(app_url, key, "/api/prices", body)["price"]["id"]

    def customer(name: str, token: str, clock: str | None = None) -> str:
        body: dict[str, Any] = {"email": f"{name.lower()}@example.com", "name": name}
        if clock:
            body["testClock"] = clock
        found = api(app_url, key, "/api/customers", body)["customer"]["id"]
        card = {"type": "card", "token": token}
        api(app_url, key, f"/api/customers/{found}/payment_methods", card)
        return found

    def subscribe(customer_id: str, price_id: str, quantity: int = 1, **extra: Any) -> str:
        body = {"customerId": customer_id, "items": [{"priceId": price_id, "quantity": quantity}]}
        return api(app_url, key, "/api/subscriptions", {**body, **extra})["subscription"]["id"]

    monthly, yearly = price("Pro plan", 1_500, "month"), price("Annual plan", 12_000, "year")
    ada = customer("Ada", "pm_card_visa")
    ada_sub = subscribe(ada, monthly, 2)
    now = int(time.time())
    clock = api(app_url, key, "/api/test_clocks", {"frozenTime": now})["testClock"]["id"]
    ben = customer("Ben", "pm_card_visa", clock)
    ben_sub = subscribe(ben, monthly)
    failing = api(
        app_url,
        key,
        f"/api/customers/{ben}/payment_methods",
        {"type": "card", "token": "pm_card_chargeCustomerFail"},
    )["paymentMethod"]["id"]
    api(app_url, key, f"/api/subscriptions/{ben_sub}", {"defaultPaymentMethod": failing})
    api(app_url, key, f"/api/test_clocks/{clock}/advance", {"frozenTime": now + 32 * 86_400})
    cy = customer("Cy", "pm_card_visa")
    subscribe(cy, yearly, trialDays=14)
    return {"ada": ada, "ada_sub": ada_sub, "ben_sub": ben_sub}


def no_codes(page) -> None:  # type: ignore[no-untyped-def]
    body = page.locator("main").inner_text()
    for code in RAW:
        assert code not in body, code
    assert not has_horizontal_scroll(page)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_subscriptions_and_invoices(  # type: ignore[no-untyped-def]
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    data = billing_data(app_url, new_merchant["key"])
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])

    # The dashboard's billing figures: 2 billing subscriptions (Ada $30, Ben $15 past due).
    card = page.get_by_role("group", name="Monthly recurring revenue")
    expect(card).to_contain_text("$45.00")
    expect(page.get_by_role("group", name="Active subscriptions")).to_contain_text("1 past due")
    screenshot(page, f"billing-dashboard-{viewport}")

    page.goto(f"{app_url}/billing/subscriptions")
    tabs = page.get_by_role("navigation", name="Billing").get_by_role("link")
    expect(tabs).to_have_text(["Products", "Subscriptions", "Invoices"])
    table = page.locator("main table")
    expect(table).to_contain_text("Past due")
    expect(table).to_contain_text("Trialing")
    expect(table).to_contain_text("Pro plan × 2")  # noqa: RUF001
    no_codes(page)
    screenshot(page, f"billing-subscriptions-{viewport}")

    page.get_by_label("Status").click()
    page.get_by_role("option", name="Past due").click()
    expect(table.get_by_role("row")).to_have_count(2)  # the header and Ben
    expect(table).to_contain_text("Ben")

    page.goto(f"{app_url}/billing/subscriptions/{data['ada_sub']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pro plan × 2")  # noqa: RUF001
    expect(page.locator("main")).to_contain_text("Visa •••• 4242")
    expect(page.locator("main")).to_contain_text("Subscription started")
    page.get_by_role("button", name="Change the quantity of Pro plan").click()
    page.get_by_label("New quantity").fill("3")
    page.get_by_role("button", name="Save quantity").click()
    expect(page.locator("main")).to_contain_text("Quantity changed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pro plan × 3")  # noqa: RUF001
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    screenshot(page, f"billing-subscription-cancel-{viewport}")
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel at period end").click()
    expect(page.locator("main")).to_contain_text("cancels at the end")
    expect(page.get_by_role("button", name="Keep renewing")).to_be_visible()
    no_codes(page)
    screenshot(page, f"billing-subscription-{viewport}")

    page.goto(f"{app_url}/billing/invoices")
    invoices = page.locator("main table")
    expect(invoices).to_contain_text("Open")
    expect(invoices).to_contain_text("Paid")
    no_codes(page)
    screenshot(page, f"billing-invoices-{viewport}")
    page.get_by_label("Status").click()
    page.get_by_role("option", name="Open").click()
    expect(invoices.get_by_role("row")).to_have_count(2)
    invoices.get_by_role("link", name="Invoice").first.click()
    page.wait_for_url("**/billing/invoices/in_*")
    main = page.locator("main")
    expect(main).to_contain_text("Next retry")
    expect(main).to_contain_text("Renewal")
    expect(page.get_by_role("link", name="PDF")).to_be_visible()
    page.get_by_role("button", name="Retry payment").click()
    expect(page.locator("main")).to_contain_text("The payment failed")
    no_codes(page)
    screenshot(page, f"billing-invoice-{viewport}")
    page.get_by_role("button", name="Mark uncollectible").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Mark uncollectible").click()
    expect(page.locator("main")).to_contain_text("marked uncollectible")
    expect(main).to_contain_text("Uncollectible")

    page.goto(f"{app_url}/customers/{data['ada']}")
    subs = page.get_by_role("list", name="Subscriptions")
    expect(subs).to_contain_text("Pro plan × 3")  # noqa: RUF001
    expect(subs).to_contain_text("Active")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"billing-customer-{viewport}")
    assert console_errors == []
