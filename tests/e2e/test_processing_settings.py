"""Processors and risk rules as a merchant sets them up, and what the next payment makes of
them. Each test has a merchant of its own: the demo merchant's other tests rely on its terms."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, api_charge, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e

STRIPE_KEY = "sk_test_" + "Hb7x" * 6


def charge_until(app_url: str, key: str, *, gateway_fee: int) -> dict:
    """A $100 charge with this processor's fee. The app's other workers see a change within
    CACHE_TTL_SECONDS (2 s): until then a charge may still take the route before it."""
    deadline = time.monotonic() + 6
    while True:
        status, payment = api_charge(app_url, key, 10_000, "pat@example.com")
        assert status == 201, payment
        if payment["gatewayFee"] == gateway_fee or time.monotonic() > deadline:
            assert payment["gatewayFee"] == gateway_fee, payment
            return payment
        time.sleep(0.5)


def processor_card(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(".rt-Card").filter(has=page.get_by_role("heading", name=name))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_processors_route_and_price_the_next_payment(
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.goto(f"{app_url}/settings/processors")
    expect(page.get_by_text("No processors set up for this mode.")).to_be_visible()
    expect(page.get_by_text("Payments go to the built-in sandbox.")).to_be_visible()

    # The sandbox at a negotiated price: 2% + $0.25.
    page.get_by_role("button", name="Add processor").click()
    expect(page.get_by_label("Built-in sandbox")).to_be_checked()  # test mode's default
    page.get_by_label("Percentage").fill("2")
    page.get_by_label("Fixed fee").fill("0.25")
    page.get_by_label("In", exact=True).fill("USD")
    page.get_by_role("button", name="Save processor").click()
    expect(page.get_by_text("Added Built-in sandbox.")).to_be_visible()
    sandbox = processor_card(page, "Built-in sandbox")
    expect(sandbox.get_by_text("2% + $0.25")).to_be_visible()

    # Stripe with the merchant's own key, for euros only; then tried first.
    page.get_by_role("button", name="Add processor").click()
    # The choice is the server's state: it shows once the round trip is back, so wait for
    # it rather than check() the radio, which looks once, straight after the click.
    stripe_choice = page.get_by_label("Stripe", exact=True)
    stripe_choice.click()
    expect(stripe_choice).to_be_checked()
    page.get_by_label("Your Stripe secret key (optional)").fill(STRIPE_KEY)
    page.get_by_label("Only these currencies").fill("eur")
    page.get_by_role("button", name="Save processor").click()
    stripe = processor_card(page, "Stripe")
    expect(stripe.get_by_text("Your Stripe account (key sk_test_…Hb7x)")).to_be_visible()
    expect(page.get_by_text(STRIPE_KEY)).to_have_count(0)
    expect(stripe.get_by_text("do not reach us yet")).to_be_visible()
    expect(stripe.get_by_text("/api/webhooks/stripe/gwc_")).to_be_visible()
    stripe.get_by_role("button", name="Move Stripe up").click()
    expect(page.get_by_text("Order saved")).to_be_visible()
    expect(stripe.get_by_text("1", exact=True)).to_be_visible()

    # A dollar payment is no euro: the sandbox takes it, at its price.
    payment = charge_until(app_url, new_merchant["key"], gateway_fee=225)
    assert payment["gatewayType"] == "sandbox"

    # It took a payment (since the page was drawn): it can be turned off, not deleted.
    sandbox.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("This processor has taken payments")).to_be_visible()
    expect(sandbox.get_by_role("button", name="Delete")).to_have_count(0)
    sandbox.get_by_role("button", name="Turn off").click()
    expect(sandbox.get_by_text("Off", exact=True)).to_be_visible()
    charge_until(app_url, new_merchant["key"], gateway_fee=320)  # the platform's default route

    # Editing keeps the key unless a new one is typed.
    stripe.get_by_role("button", name="Edit").click()
    expect(page.get_by_text("Leave empty to keep the current key.")).to_be_visible()
    page.get_by_label("Only these currencies").fill("EUR, GBP")
    page.get_by_label("Smallest amount").fill("5")
    page.get_by_role("button", name="Save processor").click()
    expect(page.get_by_text("An amount range is in one currency")).to_be_visible()
    screenshot(page, f"processor-form-{viewport}")
    page.get_by_label("Only these currencies").fill("GBP")
    page.get_by_label("Webhook signing secret (with your own key)").fill("whsec_" + "e5" * 16)
    page.get_by_role("button", name="Save processor").click()
    expect(stripe.get_by_text("From £5.00")).to_be_visible()
    expect(stripe.get_by_text("signed with whsec_…e5e5")).to_be_visible()
    expect(stripe.get_by_text("Your Stripe account (key sk_test_…Hb7x)")).to_be_visible()

    assert not has_horizontal_scroll(page)
    screenshot(page, f"processors-{viewport}")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_risk_rules_and_the_blocklist(
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.goto(f"{app_url}/settings/risk")
    expect(page.get_by_role("cell", name="Card velocity")).to_be_visible()
    expect(page.get_by_role("cell", name="Risk test cards")).to_contain_text("4100 0000 0000 0019")

    page.get_by_label("Flag for review at").fill("90")
    page.get_by_label("Block at").fill("70")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_text("review score must not be above the block score")).to_be_visible()
    page.get_by_label("Flag for review at").fill("40")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_text("Saved. New payments are scored")).to_be_visible()
    expect(page.get_by_label("Flag for review at")).to_have_value("40")

    page.get_by_label("Block", exact=True).select_option("E-mail")
    page.get_by_label("Value").fill("Fraud@Example.com")
    page.get_by_label("Reason (optional)").fill("three chargebacks")
    page.get_by_role("button", name="Add to blocklist").click()
    expect(page.get_by_text("Blocked the e-mail fraud@example.com.")).to_be_visible()
    expect(page.get_by_role("cell", name="fraud@example.com three chargebacks")).to_be_visible()
    expect(page.get_by_label("Value")).to_have_value("")

    status, payment = api_charge(app_url, new_merchant["key"], 1_500, "fraud@example.com")
    assert (status, payment["status"], payment["risk"]["decision"]) == (402, "failed", "block")
    status, friend = api_charge(app_url, new_merchant["key"], 1_500, "friend@example.com")
    assert status == 201
    page.get_by_role("link", name="Blocked payments").click()
    page.wait_for_url("**/payments?risk=block")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr").first).to_contain_text("fraud@example.com")
    page.goto(f"{app_url}/settings/risk")

    assert not has_horizontal_scroll(page)
    screenshot(page, f"risk-rules-{viewport}")
    page.get_by_role("button", name="Remove fraud@example.com from the blocklist").click()
    expect(page.get_by_text("Nothing is blocked.")).to_be_visible()
    status, _ = api_charge(app_url, new_merchant["key"], 1_500, "fraud@example.com")
    assert status == 201

    # From a payment's page: the browser names the kind, the server reads the payment's value.
    page.goto(f"{app_url}/payments/{friend['id']}")
    page.get_by_role("button", name="Block this e-mail").click()
    expect(page.get_by_text("Blocked: new payments with it are refused.")).to_be_visible()
    expect(page.get_by_text("Blocked", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Block this card")).to_be_visible()
    status, _ = api_charge(app_url, new_merchant["key"], 1_500, "friend@example.com")
    assert status == 402
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-block-{viewport}")
    page.goto(f"{app_url}/settings/risk")
    expect(page.get_by_text(f"From payment {friend['id']}")).to_be_visible()
    assert console_errors == []


def test_live_processors_ask_for_a_fresh_code_first(app_url, two_factor_owner, console_errors):
    owner = two_factor_owner("Kestrel Cycles")
    page = owner.page
    page.goto(f"{app_url}/settings/processors")
    page.get_by_role("switch", name="Live mode").click()
    expect(page.get_by_text("Live mode", exact=True)).to_be_visible()
    expect(page.get_by_text("refused until you add a Stripe processor")).to_be_visible()

    # The form opens only after a fresh code, so the key typed into it never waits in a dialog.
    page.get_by_role("button", name="Add processor").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Change live payment processors")).to_be_visible()
    page.locator("#step-up-code").fill(owner.fresh_code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("heading", name="Add a processor")).to_be_visible()
    expect(page.get_by_label("Built-in sandbox")).to_have_count(0)  # no sandbox for live money

    key = page.get_by_label("Your Stripe secret key (optional)")
    key.fill(STRIPE_KEY)  # a test key
    page.get_by_role("button", name="Save processor").click()
    expect(page.get_by_text("A live-mode Stripe secret key starts with sk_live_")).to_be_visible()
    key.fill("sk_live_" + "Kc3y" * 6)
    page.get_by_role("button", name="Save processor").click()
    expect(page.get_by_text("Added Stripe.")).to_be_visible()
    expect(page.get_by_text("Your Stripe account (key sk_live_…Kc3y)")).to_be_visible()
    expect(page.get_by_text("Live payments no processor above takes are refused.")).to_be_visible()
    screenshot(page, "processors-live-desktop")
    assert console_errors == []
