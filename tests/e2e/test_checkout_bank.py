"""Paying by bank (ACH) on the hosted checkout, on a phone and at a desk: without Plaid keys the
bank is chosen in the offline Plaid twin's picker, the mandate is read before paying, and the
payment is processing; the merchant then finds it on the payment's page with the bank account,
the mandate, the processing state and, once the bank returns it, the return in words."""

from __future__ import annotations

import sys
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, _run, has_horizontal_scroll, screenshot
from tests.e2e.test_checkout import new_session, payments_of

pytestmark = pytest.mark.e2e

# The settle job, run once as the job runner would, with the sandbox's delay set so that the
# debit has just settled ("settle": three quarters of its age) or is long past its return
# ("return": a moment), computed in the job's own process right before it asks the sandbox.
_SETTLE = """
import os, sys, time
from backend.core.db import session_scope
from backend.models import Payment
with session_scope(readonly=True) as db:
    made = int(db.get(Payment, sys.argv[1]).gateway_payment_id.split("_")[3])
age = time.time() - made
os.environ["SANDBOX_BANK_SETTLE_SECONDS"] = str(age * 0.75 if sys.argv[2] == "settle" else 0.001)
from backend.core.config import get_settings
get_settings.cache_clear()
from backend.services.payments import bank_debits
print(bank_debits.poll_due())
"""


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    import httpx

    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pay_by_bank_through_the_plaid_twin(  # type: ignore[no-untyped-def]
    api, app_url, app_env, signed_in, open_page, console_errors, viewport
) -> None:
    session = new_session(api, amountCents=4_250, paymentMethods=["card", "bank"])
    email = f"bo-{uuid.uuid4().hex[:8]}@example.com"
    page = open_page(viewport)
    page.goto(session["url"])
    page.get_by_role("button", name="Pay by bank").click()
    expect(page.get_by_role("heading", name="Pay from your US bank account")).to_be_visible()
    expect(page.get_by_text("this picker stands in for Plaid")).to_be_visible()
    mandate = page.locator("#bank-mandate")
    expect(mandate).to_contain_text("you authorise Northwind")
    expect(mandate).to_contain_text("$42.50")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Bank", exact=True).select_option(label="First Gingham Credit Union")
    page.get_by_label("Account", exact=True).select_option("000999999996")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-bank-mandate-{viewport}")

    page.get_by_role("button", name="Authorise and pay $42.50").click()
    expect(page.get_by_role("heading", name="Bank payment on its way")).to_be_visible()
    expect(page.get_by_text("Bank account ···9996 (First Gingham Credit Union)")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-bank-processing-{viewport}")
    (payment,) = payments_of(api, session["id"])
    assert (payment["status"], payment["paymentMethod"]["type"]) == ("processing", "bank")

    # The merchant's view: processing, the account and the mandate in words.
    portal = signed_in(viewport)
    portal.goto(f"{app_url}/payments/{payment['id']}")
    # The status badge in words (the page's loading placeholders hold hidden copies).
    badge = portal.get_by_text("Processing", exact=True).locator("visible=true").first
    expect(badge).to_be_visible()
    expect(portal.get_by_text("Bank account ···9996 (First Gingham Credit Union)")).to_be_visible()
    expect(portal.get_by_text("the customer's bank confirms a debit")).to_be_visible()
    expect(portal.get_by_text("you authorise Northwind")).to_be_visible()
    assert not has_horizontal_scroll(portal)
    screenshot(portal, f"portal-bank-processing-{viewport}")

    # Days later the bank settles it, then returns it (the job runner's settle job).
    _run([sys.executable, "-c", _SETTLE, payment["id"], "settle"], app_env)
    assert api.get(f"/api/payments/{payment['id']}").json()["payment"]["status"] == "succeeded"
    _run([sys.executable, "-c", _SETTLE, payment["id"], "return"], app_env)
    returned = api.get(f"/api/payments/{payment['id']}").json()["payment"]
    assert returned["status"] == "failed"
    assert returned["failure"] == {"code": "R01", "message": "Insufficient funds (R01)"}
    portal.reload()
    expect(
        portal.get_by_text("Returned by the customer's bank: Insufficient funds (R01)")
    ).to_be_visible()
    expect(portal.get_by_text("Bank return fee: $4.00")).to_be_visible()
    expect(portal.get_by_text("Failed · Insufficient funds (R01)")).to_be_visible()  # timeline
    assert not has_horizontal_scroll(portal)
    screenshot(portal, f"portal-bank-returned-{viewport}")
    assert not console_errors
