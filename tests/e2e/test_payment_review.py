"""A payment the risk rules flagged, as a merchant finds it and closes its review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, api_charge, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_approve_a_flagged_payment(app_url, two_factor_owner, console_errors, viewport) -> None:
    # A review score of 0 flags every payment this merchant takes.
    owner = two_factor_owner("Larch Ceramics", viewport, risk_review_score=0)
    page = owner.page
    status, first = api_charge(app_url, owner.secret_key, 4_200, "ada@example.com")
    assert status == 201 and first["risk"]["decision"] == "review", first
    status, second = api_charge(app_url, owner.secret_key, 6_100, "bo@example.com")
    assert status == 201, second

    page.goto(f"{app_url}/payments?risk=unreviewed")
    expect(page.get_by_role("link").filter(has_text="$42.00")).to_be_visible()
    expect(page.get_by_role("link").filter(has_text="$61.00")).to_be_visible()
    page.goto(f"{app_url}/payments/{first['id']}")
    expect(page.get_by_text("In review: the risk rules flagged this payment")).to_be_visible()
    screenshot(page, f"payment-review-open-{viewport}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved by")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-review-{viewport}")

    page.goto(f"{app_url}/payments/{second['id']}")
    page.get_by_role("button", name="Mark fraudulent").click()
    expect(page.get_by_text("Marked fraudulent by")).to_be_visible()

    page.goto(f"{app_url}/payments?risk=unreviewed")
    expect(page.get_by_text("No payments match")).to_be_visible()
    assert console_errors == []
