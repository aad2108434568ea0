"""Paying with the sandbox's test wallet on the hosted checkout, on a phone and at a desk, and
the merchant finding the payment in the portal: without Stripe keys the wallet buttons stand in
for Apple Pay and Google Pay and hand over the test card Visa 4242, as `make run` shows them."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot
from tests.e2e.test_checkout import new_session, payments_of

pytestmark = pytest.mark.e2e

# The phone pays with the Apple Pay stand-in, the desk with the Google Pay one.
WALLETS = {"phone": ("Apple Pay", "apple_pay"), "desktop": ("Google Pay", "google_pay")}
CODE_WORDS = re.compile(r"apple_pay|google_pay|card_wallet|wallet_")


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    import httpx

    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


def visible_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("body").inner_text()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pay_with_the_test_wallet_then_find_it_in_the_portal(  # type: ignore[no-untyped-def]
    app_url, api, open_page, signed_in, console_errors, viewport
) -> None:
    wallet, code = WALLETS[viewport]
    session = new_session(api)
    page = open_page(viewport)
    page.goto(session["url"])
    button = page.get_by_role("button", name=f"{wallet} · test wallet")
    expect(button).to_be_visible()
    expect(page.get_by_text("these buttons stand in for Apple Pay and Google Pay")).to_be_visible()
    expect(page.get_by_text("or pay by card")).to_be_visible()
    assert not has_horizontal_scroll(page)
    assert not CODE_WORDS.search(visible_text(page))
    screenshot(page, f"checkout-wallet-form-{viewport}")

    # A wallet needs no card fields, but the receipt needs an e-mail: asked for, nothing paid.
    button.click()
    expect(page.locator("#email-error")).to_have_text(re.compile("e-mail", re.I))
    assert payments_of(api, session["id"]) == []

    page.get_by_label("E-mail").fill(f"wallet-{uuid.uuid4().hex[:8]}@example.com")
    button.click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    expect(page.get_by_text(f"{wallet} · Visa •••• 4242")).to_be_visible()
    assert not has_horizontal_scroll(page)
    assert not CODE_WORDS.search(visible_text(page))
    screenshot(page, f"checkout-wallet-paid-{viewport}")

    [payment] = payments_of(api, session["id"])
    assert payment["status"] == "succeeded"
    assert payment["paymentMethod"]["type"] == "card"
    assert payment["paymentMethod"]["wallet"] == {"type": code}
    assert not console_errors

    # The merchant: the list and the payment's page name the wallet and the card.
    portal = signed_in(viewport)
    portal.goto(f"{app_url}/payments")
    link = portal.locator(f'a[href="/payments/{payment["id"]}"]')
    row = portal.get_by_role("row").filter(has=link)
    expect(row).to_be_visible()
    if viewport == "desktop":  # the phone's list leaves the card column out
        expect(row.get_by_text(f"{wallet} · Visa •••• 4242")).to_be_visible()
        screenshot(portal, f"portal-wallet-list-{viewport}")
    portal.goto(f"{app_url}/payments/{payment['id']}")
    expect(portal.get_by_text(f"{wallet} · Visa", exact=True)).to_be_visible()
    expect(portal.get_by_text("Visa •••• 4242", exact=True)).to_be_visible()
    assert not has_horizontal_scroll(portal)
    assert not CODE_WORDS.search(visible_text(portal))
    screenshot(portal, f"portal-wallet-payment-{viewport}")

    # Processors: without Stripe keys, the panel says the checkout shows the test wallet.
    portal.goto(f"{app_url}/settings/processors")
    panel = portal.locator(".rt-Card", has_text="Apple Pay and Google Pay")
    expect(panel.get_by_text("the checkout shows test wallet buttons")).to_be_visible()
    assert not has_horizontal_scroll(portal)
    screenshot(portal, f"portal-wallet-processors-{viewport}")
