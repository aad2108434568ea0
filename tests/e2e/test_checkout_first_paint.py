"""The checkout's first paint: in the HTML before any JavaScript runs, then swapped for the live
page without a pixel moving."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, screenshot
from tests.e2e.test_checkout import new_session

pytestmark = pytest.mark.e2e

BOXES = ("main h1", ".co-note", ".co-items li", ".co-total")
SHIFTS = """window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__shifts.push(entry.value);
}).observe({type: "layout-shift", buffered: true});"""


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


def boxes(page) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {selector: page.locator(selector).first.bounding_box() for selector in BOXES}


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_order_shows_before_javascript_and_swaps_in_place(
    app_url, api, browser, open_page, console_errors, viewport
) -> None:  # type: ignore[no-untyped-def]
    session = new_session(api)

    # No JavaScript at all: the merchant, the test note and the order are there.
    context = browser.new_context(viewport=VIEWPORTS[viewport], java_script_enabled=False)
    still = context.new_page()
    still.goto(session["url"])
    first = still.locator("#co-first-paint")
    expect(first.locator("h1")).to_have_text("Northwind Coffee Roasters")
    expect(first.locator(".co-note")).to_contain_text("Test page")
    expect(first.locator(".co-total")).to_contain_text("$37.99")
    screenshot(still, f"checkout-first-paint-{viewport}")
    before = boxes(still)
    context.close()

    # With JavaScript: the live page replaces it where it stood, and works.
    page = open_page(viewport)
    page.add_init_script(SHIFTS)
    page.goto(session["url"])
    expect(page.get_by_role("button", name="Pay $37.99")).to_be_visible()
    expect(page.locator("#co-first-paint")).to_have_count(0)
    assert boxes(page) == before
    assert page.evaluate("window.__shifts") == []
    assert console_errors == []


def test_first_paint_is_hidden_from_assistive_technology(app_url, api, browser) -> None:  # type: ignore[no-untyped-def]
    session = new_session(api)
    context = browser.new_context(viewport=VIEWPORTS["phone"], java_script_enabled=False)
    page = context.new_page()
    page.goto(session["url"])
    # `inert`: not in the accessibility tree, nothing to focus.
    expect(page.get_by_role("heading")).to_have_count(0)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement === document.body")
    context.close()
