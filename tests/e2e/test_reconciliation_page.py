"""Reconciliation at both widths, as the demo owner: the bank returns a payout (R01) before we
hear of it, "Run reconciliation" finds that the rail and our records disagree, the exception
shows both sides in words, and resolving it with a note moves it to Resolved, signed with the
owner's e-mail. Nothing is wider than the screen."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from backend.integrations.bank_payouts import SandboxPayoutRail
from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def _post(app_url: str, key: str, path: str, body: dict) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(
        f"{app_url}{path}",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 201
        return json.load(response)


def _returned_payout(app_url: str, app_env: dict[str, str], key: str, amount: int) -> str:
    """A payout in transit that the bank has returned, which the app has not heard of yet
    (no job worker runs beside the tests' app): the payout's id."""
    charge = {
        "amountCents": amount * 2,
        "currency": "USD",
        "customerEmail": "reconcile@example.com",
        "paymentMethod": {"type": "card", "token": "pm_card_bypassPending"},  # available now
    }
    _post(app_url, key, "/api/payments/charge", charge)
    payout = _post(app_url, key, "/api/payouts", {"amountCents": amount, "currency": "USD"})
    payout_id = payout["payout"]["id"]
    assert payout["payout"]["status"] == "in_transit"
    database = app_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        (transfer,) = db.execute(
            "SELECT rail_transfer_id FROM payouts WHERE id = ?", (payout_id,)
        ).fetchone()
    rail = SandboxPayoutRail(app_env["SANDBOX_RAIL_PATH"])
    if rail.get(transfer).status == "pending":
        rail.advance(transfer, "posted")
    rail.advance(transfer, "returned", "R01")
    return payout_id


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_returned_payout_is_found_and_resolved_with_a_note(  # type: ignore[no-untyped-def]
    app_url, app_env, demo, signed_in, console_errors, viewport
) -> None:
    amount = 1_234 if viewport == "desktop" else 4_321
    payout_id = _returned_payout(app_url, app_env, demo["test_secret_key"], amount)
    page = signed_in(viewport)
    page.goto(f"{app_url}/reconciliation")
    expect(page.get_by_role("heading", name="Reconciliation", level=1)).to_be_visible()
    page.get_by_role("button", name="Run reconciliation").click()
    expect(page.get_by_role("status").filter(has_text="Reconciliation finished")).to_contain_text(
        "1 new exception"
    )
    card = page.locator(".rt-Card").filter(has_text=payout_id)
    expect(card).to_contain_text("Payout returned")
    expect(card).to_contain_text("The payout rail (bank transfers)")
    expect(card).to_contain_text("Insufficient funds")  # the bank's reason for R01, in words
    expect(card).to_contain_text(f"${amount / 100:,.2f}")
    assert "payout_returned" not in page.locator("main").inner_text()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"reconciliation-open-{viewport}")

    card.get_by_role("button", name="Resolve").click()
    resolve = card.get_by_role("button", name="Resolve", exact=True)
    expect(resolve).to_be_disabled()  # a note is required
    note = "Called the bank: the account was empty; paid out again on Monday."
    card.get_by_label("What was done about it (required)").fill(note)
    resolve.click()
    resolved = page.locator(".rt-Card").filter(has_text=payout_id)
    expect(resolved).to_contain_text(f"by {demo['email']}: {note}")
    expect(resolved.get_by_role("button", name="Resolve")).to_have_count(0)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"reconciliation-resolved-{viewport}")
    assert console_errors == []
