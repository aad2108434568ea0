"""The customer's billing pages in a browser, at a phone's and a desktop's size: the billing
portal (an overdue subscription paid with a new card, a card added, a cancellation at period
end, the way back to the merchant) and the hosted invoice page paid with a card that asks for
3-D Secure; an expired or unknown link shows a clear page and no data. Screenshots land in
tests/e2e/artifacts/customer-billing-*.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

JAN_31 = int(datetime(2025, 1, 31, 9, 0, tzinfo=UTC).timestamp())
DAY = 86_400
CODES = ("past_due", "uncollectible", "trialing", "requires_action", "None", "undefined")


@pytest.fixture
def shop(app_url, app_env):  # type: ignore[no-untyped-def]
    """A merchant of its own, with its test key's API client."""
    from backend.core.db import make_engine, session_scope
    from backend.services.identity import accounts

    engine = make_engine(app_env["DATABASE_URL"])
    with session_scope(engine) as db:
        created = accounts.create_merchant(
            db,
            email=f"owner-{uuid.uuid4().hex[:10]}@shop.test",
            password="a long passphrase 1",
            name="Harbour Tea",
        )
    engine.dispose()
    headers = {"Authorization": f"Bearer {created.test_secret_key}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=30) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def overdue(api: httpx.Client) -> dict:
    """A monthly $15 subscription whose Feb 28 renewal failed (the card declines)."""
    product = ok(api.post("/api/products", json={"name": "Pro plan"}), 201)["product"]
    price = ok(
        api.post(
            "/api/prices",
            json={
                "productId": product["id"],
                "unitAmountCents": 1_500,
                "currency": "USD",
                "recurring": {"interval": "month", "intervalCount": 1},
            },
        ),
        201,
    )["price"]["id"]
    clock = ok(api.post("/api/test_clocks", json={"frozenTime": JAN_31}), 201)["testClock"]["id"]
    customer = ok(
        api.post(
            "/api/customers",
            json={"email": "ada@example.com", "name": "Ada Lovelace", "testClock": clock},
        ),
        201,
    )["customer"]["id"]
    card = {"type": "card", "token": "pm_card_visa"}
    ok(api.post(f"/api/customers/{customer}/payment_methods", json=card), 201)
    sub = ok(
        api.post(
            "/api/subscriptions",
            json={"customerId": customer, "items": [{"priceId": price, "quantity": 1}]},
        ),
        201,
    )["subscription"]
    failing = {"type": "card", "token": "pm_card_chargeCustomerFail"}
    bad = ok(api.post(f"/api/customers/{customer}/payment_methods", json=failing), 201)
    ok(
        api.post(
            f"/api/subscriptions/{sub['id']}",
            json={"defaultPaymentMethod": bad["paymentMethod"]["id"]},
        )
    )
    ok(api.post(f"/api/test_clocks/{clock}/advance", json={"frozenTime": JAN_31 + 29 * DAY}))
    invoices = ok(api.get(f"/api/invoices?subscription={sub['id']}"))["invoices"]
    due = next(i for i in invoices if i["status"] == "open")
    return {"customer": customer, "subscription": sub["id"], "invoice": due}


def fill_card(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("10115")


def no_codes(page) -> None:  # type: ignore[no-untyped-def]
    text = page.locator("main").inner_text()
    for code in CODES:
        assert code not in text, code


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_portal_recovers_an_overdue_subscription(  # type: ignore[no-untyped-def]
    viewport, shop, open_page, console_errors
) -> None:
    made = overdue(shop)
    session = ok(
        shop.post(
            "/api/billing_portal/sessions",
            json={"customerId": made["customer"], "returnUrl": "https://shop.example/account"},
        ),
        201,
    )["session"]
    page = open_page(viewport)
    page.goto(session["url"])
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible(timeout=30_000)
    subs = page.get_by_role("region", name="Subscriptions")
    expect(subs).to_contain_text("Pro plan")
    expect(subs).to_contain_text("$15.00 per month")
    expect(subs).to_contain_text("Payment overdue")
    expect(page.get_by_role("region", name="Payment method")).to_contain_text("Visa •••• 0341")
    invoices = page.get_by_role("region", name="Invoices")
    expect(invoices).to_contain_text("Due")
    number = made["invoice"]["number"]
    expect(page.get_by_role("link", name=f"Download invoice {number} as PDF")).to_have_attribute(
        "href", f"/api/invoices/hosted/{made['invoice']['hostedUrl'].rsplit('/', 1)[1]}/pdf"
    )
    back = page.get_by_role("link", name="Return to Harbour Tea")
    expect(back).to_have_attribute("href", "https://shop.example/account")
    no_codes(page)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customer-billing-portal-overdue-{viewport}")

    page.get_by_role("button", name=f"Pay invoice {number}").click()
    fill_card(page, "4242 4242 4242 4242")
    screenshot(page, f"customer-billing-portal-pay-form-{viewport}")
    page.get_by_role("button", name="Pay with this card").click()
    expect(page.get_by_role("status")).to_have_text("Your payment went through.")
    expect(subs).to_contain_text("Active")
    expect(subs).not_to_contain_text("Payment overdue")
    cards = page.get_by_role("region", name="Payment method")
    newest = cards.locator("li").first  # newest first: the card just typed, now the default
    expect(newest).to_contain_text("Visa •••• 4242")
    expect(newest).to_contain_text("Default")
    assert (
        ok(shop.get(f"/api/subscriptions/{made['subscription']}"))["subscription"]["status"]
        == "active"
    )

    # Cancel at the end of the period (the merchant allows it by default).
    page.get_by_role("button", name="Cancel subscription Pro plan").click()
    dialog = page.get_by_role("alertdialog", name="Confirm cancellation")
    expect(dialog).to_be_visible()
    screenshot(page, f"customer-billing-portal-cancel-{viewport}")
    dialog.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_contain_text("stays active until")
    expect(subs).to_contain_text("Canceled: ends on Mar 31, 2025")
    assert (
        ok(shop.get(f"/api/subscriptions/{made['subscription']}"))["subscription"][
            "cancelAtPeriodEnd"
        ]
        is True
    )
    no_codes(page)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customer-billing-portal-after-{viewport}")
    assert console_errors == []


def test_the_portal_adds_a_card(shop, open_page, console_errors) -> None:  # type: ignore[no-untyped-def]
    made = overdue(shop)
    session = ok(
        shop.post("/api/billing_portal/sessions", json={"customerId": made["customer"]}), 201
    )["session"]
    page = open_page("phone")
    page.goto(session["url"])
    page.get_by_role("button", name="Add a card").click(timeout=30_000)
    page.get_by_role("button", name="Save card").click()  # empty: checked in the browser
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    fill_card(page, "5555 5555 5555 4444")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status")).to_contain_text("Your new card is saved")
    cards = page.get_by_role("region", name="Payment method")
    expect(cards.locator("li", has_text="Mastercard •••• 4444")).to_contain_text("Default")
    sub = ok(shop.get(f"/api/subscriptions/{made['subscription']}"))["subscription"]
    customer = ok(shop.get(f"/api/customers/{made['customer']}"))["customer"]
    assert sub["defaultPaymentMethod"] == customer["defaultPaymentMethod"]
    screenshot(page, "customer-billing-portal-card-added-phone")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_hosted_invoice_is_paid_through_3ds(  # type: ignore[no-untyped-def]
    viewport, shop, open_page, console_errors
) -> None:
    made = overdue(shop)
    invoice = made["invoice"]
    page = open_page(viewport)
    page.goto(invoice["hostedUrl"])
    expect(page.get_by_role("heading", name=f"Invoice {invoice['number']}")).to_be_visible(
        timeout=30_000
    )
    expect(page.locator("main")).to_contain_text("Due")
    expect(page.locator("main")).to_contain_text("Ada Lovelace · ada@example.com")
    expect(page.get_by_role("button", name="Pay $15.00")).to_be_visible()
    no_codes(page)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customer-billing-invoice-due-{viewport}")

    fill_card(page, "4000 0027 6000 3184")
    page.get_by_role("button", name="Pay $15.00").click()
    challenge = page.get_by_role("region", name="Confirm it's you")
    expect(challenge).to_be_visible()
    screenshot(page, f"customer-billing-invoice-3ds-{viewport}")
    challenge.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("This invoice is paid. Thank you.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Visa •••• 3184")
    paid = ok(shop.get(f"/api/invoices/{invoice['id']}"))["invoice"]
    assert paid["status"] == "paid" and paid["amountPaidCents"] == 1_500
    sub = ok(shop.get(f"/api/subscriptions/{made['subscription']}"))["subscription"]
    assert sub["status"] == "active"
    no_codes(page)
    screenshot(page, f"customer-billing-invoice-paid-{viewport}")
    assert console_errors == []


def test_unknown_links_show_no_data(app_url, open_page, console_errors) -> None:  # type: ignore[no-untyped-def]
    page = open_page("phone")
    for path in ("/billing/not-a-real-secret", "/invoice/in_nothing.0000"):
        page.goto(f"{app_url}{path}")
        expect(
            page.get_by_role("heading", name="This link has expired or is not valid")
        ).to_be_visible(timeout=30_000)
        assert page.get_by_role("heading", name="Subscriptions").count() == 0
    screenshot(page, "customer-billing-link-not-valid-phone")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_save_card_on_checkout_then_subscribe_then_update_in_the_portal(  # type: ignore[no-untyped-def]
    viewport, shop, open_page, console_errors
) -> None:
    email = f"saver-{uuid.uuid4().hex[:8]}@example.com"
    session = ok(
        shop.post(
            "/api/checkout/sessions",
            json={
                "amountCents": 1_500,
                "currency": "USD",
                "customerEmail": email,
                "successUrl": "https://shop.example/thanks",
                "cancelUrl": "https://shop.example/cart",
                "savePaymentMethod": True,
            },
        ),
        201,
    )["session"]
    page = open_page(viewport)
    page.goto(session["url"])
    save = page.get_by_label("Save this card for future payments")
    expect(save).to_be_visible(timeout=30_000)
    expect(save).not_to_be_checked()
    expect(page.locator("#save-card-consent")).to_have_text(
        "I allow Harbour Tea to charge this card for future payments according to its terms."
    )
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("10115")
    save.check()
    screenshot(page, f"customer-billing-checkout-save-card-{viewport}")
    page.get_by_role("button", name="Pay $15.00").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible(timeout=20_000)

    found = ok(shop.get("/api/customers", params={"email": email}))["customers"]
    assert len(found) == 1 and found[0]["defaultPaymentMethod"]
    customer = found[0]["id"]
    [card] = ok(shop.get(f"/api/customers/{customer}/payment_methods"))["paymentMethods"]
    assert card["card"]["last4"] == "4242"

    # The merchant subscribes the customer with the saved card, and sees the subscription.
    product = ok(shop.post("/api/products", json={"name": "Tea club"}), 201)["product"]
    price = ok(
        shop.post(
            "/api/prices",
            json={
                "productId": product["id"],
                "unitAmountCents": 900,
                "currency": "USD",
                "recurring": {"interval": "month", "intervalCount": 1},
            },
        ),
        201,
    )["price"]["id"]
    sub = ok(
        shop.post(
            "/api/subscriptions",
            json={
                "customerId": customer,
                "items": [{"priceId": price, "quantity": 1}],
                "defaultPaymentMethod": card["id"],
            },
        ),
        201,
    )["subscription"]
    assert sub["status"] == "active"

    # The customer updates the card in the portal.
    portal = ok(shop.post("/api/billing_portal/sessions", json={"customerId": customer}), 201)
    page.goto(portal["session"]["url"])
    subs = page.get_by_role("region", name="Subscriptions")
    expect(subs).to_contain_text("Tea club", timeout=30_000)
    expect(subs).to_contain_text("$9.00 per month")
    page.get_by_role("button", name="Add a card").click()
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status")).to_contain_text("Your new card is saved")
    expect(subs).to_contain_text("Paid with Mastercard •••• 4444")
    after = ok(shop.get(f"/api/subscriptions/{sub['id']}"))["subscription"]
    assert after["defaultPaymentMethod"] != card["id"]
    assert not has_horizontal_scroll(page)
    screenshot(page, f"customer-billing-portal-card-updated-{viewport}")
    assert console_errors == []
