"""The Balance page and a payout's page at both widths, as the demo owner (the demo merchant has
a verified sandbox bank account): the dashboard's balance card leads to /balance, the figures
are in words and money, "Pay out" pays out everything available, the payout's page lists the
transactions it paid out with a total that equals it, and a simulated bank return (test mode)
reads "Returned" and puts the money back. Nothing is wider than the screen."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

RAW_CODES = ("in_transit", "payout_failure", "platform_fee", "processor_fee", "balance_")


def _money(text: str) -> Decimal:
    """ "$1,234.56" or "-$1.23" as a Decimal (the demo's USD, en_US)."""
    cleaned = text.strip().replace(",", "").replace("$", "").replace("\u2212", "-")
    return Decimal(cleaned)


def _nothing_clipped(page) -> None:  # type: ignore[no-untyped-def]
    """No table scrolls sideways inside its box either (the page itself does not)."""
    clipped = page.evaluate(
        """[...document.querySelectorAll('main table')].filter(
            t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1).length"""
    )
    assert clipped == 0


def _no_raw_codes(page) -> None:  # type: ignore[no-untyped-def]
    body = page.locator("main").inner_text()
    for code in RAW_CODES:
        assert code not in body, code


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_balance_pay_out_and_a_returned_payout(signed_in, console_errors, viewport) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(viewport)
    dashboard_card = page.get_by_role("link", name="View balance")
    expect(dashboard_card).to_be_visible()
    expect(page.locator("main")).to_contain_text("Next payout:")
    screenshot(page, f"balance-dashboard-{viewport}")

    nav = page
    if viewport == "phone":
        page.get_by_role("button", name="Open menu").click()
        nav = page.get_by_role("dialog")
    nav.get_by_role("link", name="Balance", exact=True).click()
    page.wait_for_url("**/balance")
    expect(page.get_by_role("heading", name="Balance", level=1)).to_be_visible()
    usd = page.get_by_role("group", name="Balance in USD")
    expect(usd).to_contain_text("Available")
    expect(usd).to_contain_text("In transit")
    expect(usd).to_contain_text("Next payout")
    expect(page.get_by_text("Paid to First Platypus Bank")).to_be_visible()
    expect(page.locator("table").last.locator("tbody tr").first).to_be_visible()
    export = page.get_by_role("link", name="Export these balance transactions as CSV")
    expect(export).to_have_attribute("href", "/api/portal/exports/balance_transactions.csv")
    assert not has_horizontal_scroll(page)
    _nothing_clipped(page)
    _no_raw_codes(page)
    screenshot(page, f"balance-{viewport}")

    # Pay out everything available, with a confirm step.
    page.get_by_role("button", name="Pay out USD").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Amount")).to_be_visible()
    screenshot(page, f"balance-pay-out-form-{viewport}")
    dialog.get_by_role("button", name="Continue").click()
    summary = dialog.get_by_text(re.compile(r"^Pay out \$[\d,]+\.\d\d \(everything available\)"))
    expect(summary).to_be_visible()
    amount = re.search(r"\$[\d,]+\.\d\d", summary.inner_text()).group(0)  # type: ignore[union-attr]
    screenshot(page, f"balance-pay-out-confirm-{viewport}")
    dialog.get_by_role("button", name="Confirm payout").click()
    expect(page.get_by_role("status").filter(has_text=f"Payout of {amount} made")).to_be_visible()
    expect(usd).to_contain_text("$0.00")

    # The payout's page: the transactions it paid out add up to it.
    page.get_by_role("link", name=re.compile(rf"^Payout {re.escape(amount)} ")).first.click()
    page.wait_for_url("**/balance/payouts/po_*")
    expect(page.get_by_role("heading", name=amount, level=1)).to_be_visible()
    main = page.locator("main")
    expect(main.get_by_text("In transit").first).to_be_visible()
    expect(main).to_contain_text("First Platypus Bank")
    summary_table = page.locator("table").filter(has_text="Total paid out")
    total = summary_table.get_by_label("Total paid out")
    expect(total).to_have_text(amount)
    expect(summary_table.get_by_text("Equals the payout")).to_be_visible()
    nets = summary_table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert len(nets) >= 2
    assert sum(_money(n) for n in nets[:-1]) == _money(nets[-1]) == _money(amount)
    expect(
        page.get_by_role("link", name="Export the transactions this payout paid out as CSV")
    ).to_have_attribute("href", re.compile(r"\?payout=po_"))
    assert not has_horizontal_scroll(page)
    _nothing_clipped(page)
    _no_raw_codes(page)
    screenshot(page, f"balance-payout-{viewport}")

    # A bank return in test mode: booked, in words, and the money is available again.
    page.get_by_role("button", name="Simulate a bank return (R01)").click()
    expect(page.get_by_role("status").filter(has_text="returned the payout")).to_be_visible()
    expect(main.get_by_text("Returned").first).to_be_visible()
    expect(main).to_contain_text("R01: insufficient funds")
    expect(page.get_by_role("button", name="Simulate a bank return (R01)")).to_have_count(0)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"balance-payout-returned-{viewport}")

    page.get_by_role("link", name="Balance").last.click()
    page.wait_for_url("**/balance")
    usd = page.get_by_role("group", name="Balance in USD")
    expect(usd).to_contain_text(amount)
    first_payout = page.get_by_role("link", name=re.compile(r"^Payout ")).first
    expect(first_payout.locator("xpath=ancestor::tr")).to_contain_text("Returned")
    page.get_by_role("combobox", name="Type").click()
    page.get_by_role("option", name="Payout returned").click()
    expect(page.locator("table").last.locator("tbody tr").first).to_contain_text(amount)
    expect(export).to_have_attribute(
        "href", "/api/portal/exports/balance_transactions.csv?type=payout_failure"
    )
    assert not has_horizontal_scroll(page)
    _no_raw_codes(page)
    screenshot(page, f"balance-after-return-{viewport}")
    assert console_errors == []
