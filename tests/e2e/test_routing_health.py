"""A processor that cannot be reached, as the merchant sees it: its payments fail over to the next
processor, its circuit opens after repeated failures (the Processors page says so), and each
payment's page says which processors were asked and why. The merchant's own Stripe key reaches a
closed local port (STRIPE_API_BASE in the e2e app's environment)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from backend.core.config import get_settings
from backend.services.payments.circuit import FAILURES_TO_OPEN
from tests.e2e.conftest import (
    VIEWPORTS,
    api_charge,
    backend_cli,
    has_horizontal_scroll,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_unreachable_processor_is_skipped_and_the_merchant_sees_why(
    app_env, app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    merchant = new_merchant["merchant_id"]
    key = "sk_test_" + "Rd4q" * 6
    backend_cli(app_env, "gateway-add", "--merchant", merchant, "--gateway", "stripe",
                "--secret-key", key, "--pinned")  # fmt: skip
    backend_cli(app_env, "gateway-add", "--merchant", merchant, "--gateway", "sandbox")

    # Every payment is taken once, by the sandbox, while Stripe cannot be reached.
    payments = []
    for n in range(FAILURES_TO_OPEN):
        status, payment = api_charge(app_url, new_merchant["key"], 2_000 + n, "ana@example.com")
        assert (status, payment["status"], payment["gatewayType"]) == (201, "succeeded", "sandbox")
        payments.append(payment)

    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    page.goto(f"{app_url}/settings/processors")
    stripe = page.locator(".rt-Card").filter(has=page.get_by_role("heading", name="Stripe"))
    expect(stripe.get_by_text("Skipped: unreachable")).to_be_visible()
    expect(
        stripe.get_by_text(re.compile(r"^Skipped since \d\d:\d\d:\d\d UTC, after it could not"))
    ).to_be_visible()
    sandbox = page.locator(".rt-Card").filter(
        has=page.get_by_role("heading", name="Built-in sandbox")
    )
    expect(sandbox.get_by_text("Reachable")).to_be_visible()
    expect(sandbox.get_by_text("Taking payments.")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"processors-health-{viewport}")

    # The first payment asked Stripe, which could not be reached, then the sandbox.
    page.goto(f"{app_url}/payments/{payments[0]['id']}")
    routing = page.get_by_role("list", name="Routing")
    expect(routing.locator("li")).to_have_count(2)
    expect(routing.locator("li").first).to_contain_text(
        "Stripe: Error: Stripe could not be reached."
    )
    expect(routing.locator("li").nth(1)).to_contain_text(
        "failover: Stripe account \u2026Rd4q could not be reached"
    )
    screenshot(page, f"payment-routing-failover-{viewport}")

    # Once every worker has seen the circuit open (each reads it through a cache of
    # CACHE_TTL_SECONDS), a payment is not offered to Stripe at all.
    time.sleep(get_settings().cache_ttl_seconds)
    status, skipped = api_charge(app_url, new_merchant["key"], 2_500, "ana@example.com")
    assert (status, skipped["gatewayType"]) == (201, "sandbox")
    page.goto(f"{app_url}/payments/{skipped['id']}")
    expect(routing.locator("li")).to_have_count(1)
    expect(routing.locator("li").first).to_contain_text("Built-in sandbox")
    expect(routing).to_contain_text("Skipped since")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-routing-skipped-{viewport}")
    assert console_errors == []
