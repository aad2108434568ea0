"""The Statements page at both widths, as the demo merchant (its history is in the ledger):
months with their opening → closing balances in words and money, PDF and CSV links that
download, nothing wider than the screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_statements_page(signed_in, console_errors, viewport) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(viewport)
    nav = page
    if viewport == "phone":
        page.get_by_role("button", name="Open menu").click()
        nav = page.get_by_role("dialog")
    nav.get_by_role("link", name="Statements").click()
    page.wait_for_url("**/statements")
    expect(page.get_by_role("heading", name="Statements", level=1)).to_be_visible()
    expect(page.get_by_text("Month to date").first).to_be_visible()
    expect(page.get_by_text("USD").first).to_be_visible()
    pdf = page.get_by_role("link", name=re.compile(r"^PDF statement for "))
    assert pdf.count() >= 2
    assert re.fullmatch(r"/api/portal/statements/\d{4}-\d{2}\.pdf", pdf.first.get_attribute("href"))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^CSV statement for ")).first.click()
    assert download.value.suggested_filename.startswith("statement-")
    body = page.locator("main").inner_text()
    assert "_fee" not in body and "processor_fee" not in body
    assert not has_horizontal_scroll(page)
    screenshot(page, f"statements-{viewport}")
    assert console_errors == []
