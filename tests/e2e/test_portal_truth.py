"""Nothing on screen disagrees with the controls: the payments list's selection lives in the
address (a link shows it, Back returns to the previous one), dates that cannot be applied
show no list and say why, and the dashboard's Live badge, feed and figures follow the
websocket: "Reconnecting…" while it is cut, and what happened meanwhile once it is back."""

from __future__ import annotations

import re
import socket
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, api_charge, has_horizontal_scroll, screenshot, sign_in

pytestmark = pytest.mark.e2e


def address(page) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(urlparse(page.url).query)


def select_trigger(page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("combobox", name=label)


def choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    select_trigger(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_address_holds_the_selection(app_url, signed_in, console_errors, viewport) -> None:
    page = signed_in(viewport)
    rows = page.locator("table tbody tr")
    # A link with filters shows exactly that selection.
    page.goto(f"{app_url}/payments?status=refunded&currency=USD")
    expect(select_trigger(page, "Status")).to_have_text("Refunded")
    expect(select_trigger(page, "Currency")).to_have_text("USD")
    expect(rows.first).to_be_visible()
    statuses = rows.locator("td:nth-child(2)").all_inner_texts()
    assert statuses and set(statuses) == {"Refunded"}
    assert all("$" in amount for amount in rows.locator("td:first-child").all_inner_texts())

    # A change of a control is a new address; Back returns to the previous selection.
    choose(page, "Status", "Failed")
    page.wait_for_url(re.compile(r"status=failed"))
    expect(rows.first.get_by_text("Failed", exact=True)).to_be_visible()
    assert address(page) == {"status": ["failed"], "currency": ["USD"]}
    page.go_back()
    page.wait_for_url(re.compile(r"status=refunded"))
    expect(select_trigger(page, "Status")).to_have_text("Refunded")
    expect(rows.first.get_by_text("Refunded", exact=True)).to_be_visible()
    expect(rows.get_by_text("Failed", exact=True)).to_have_count(0)

    # A search is in the address too, and a reload shows the same.
    page.get_by_label("Search payments").fill("4242")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=4242"))
    page.reload()
    expect(page.get_by_label("Search payments")).to_have_value("4242")
    expect(select_trigger(page, "Status")).to_have_text("Refunded")
    expect(rows.first).to_be_visible()
    screenshot(page, f"truth-payments-address-{viewport}")

    # What the address cannot say is ignored, with a note; the rest still applies.
    page.goto(f"{app_url}/payments?status=bogus&method=card")
    expect(page.get_by_text("Ignored status “bogus” from the address")).to_be_visible()
    expect(select_trigger(page, "Status")).to_have_text("All")
    expect(select_trigger(page, "Method")).to_have_text("Card")
    expect(rows.first).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"truth-payments-note-{viewport}")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_dates_that_cannot_apply_list_nothing(app_url, signed_in, viewport) -> None:
    page = signed_in(viewport)
    rows = page.locator("table tbody tr")
    page.goto(f"{app_url}/payments")
    expect(rows).to_have_count(25)
    choose(page, "Date", "Custom range")
    page.wait_for_url(re.compile(r"date=custom"))
    problem = page.get_by_role("status").filter(has_text="Choose a From or To date")
    expect(problem).to_be_visible()
    expect(rows).to_have_count(0)  # not the previous selection's 25 rows
    page.get_by_label("From").fill("2026-03-10")
    page.wait_for_url(re.compile(r"from=2026-03-10"))
    page.get_by_label("To").fill("2026-03-01")
    page.wait_for_url(re.compile(r"to=2026-03-01"))
    expect(page.get_by_text("The To date is before the From date")).to_be_visible()
    expect(rows).to_have_count(0)
    expect(page.get_by_role("link", name="Export these payments as CSV")).to_have_count(0)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"truth-payments-bad-range-{viewport}")
    # Fixing the dates lists that range; Back shows the message again, not stale rows.
    page.get_by_label("To").fill("2099-12-31")
    page.wait_for_url(re.compile(r"to=2099-12-31"))
    expect(page.get_by_text("The To date is before the From date")).to_have_count(0)
    expect(rows.first).to_be_visible()
    page.go_back()
    expect(page.get_by_text("The To date is before the From date")).to_be_visible()
    expect(rows).to_have_count(0)

    # The dashboard's custom range says the same instead of keeping the old figures.
    page.goto(f"{app_url}/dashboard")
    expect(page.get_by_role("group", name="Gross volume")).to_be_visible()
    page.get_by_role("radio", name="Custom").click()
    expect(page.get_by_text("Choose the first and last day of the range")).to_be_visible()
    expect(page.get_by_role("group", name="Gross volume")).to_have_count(0)
    page.locator("#range-from").fill("2026-03-10")
    page.locator("#range-to").fill("2026-03-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("The range ends before it starts")).to_be_visible()
    expect(page.get_by_role("group", name="Gross volume")).to_have_count(0)
    screenshot(page, f"truth-dashboard-bad-range-{viewport}")
    page.get_by_role("radio", name="30 days").click()
    expect(page.get_by_role("group", name="Gross volume")).to_be_visible()


# The page's websockets, made cuttable before the app's scripts load: __pp_cut() closes them
# and sends every new one to a closed port on this machine (connection refused, as when the
# server is unreachable) until __pp_restore().
CUTTABLE_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  const open = [];
  let deadAddress = null;
  function Cuttable(url, protocols) {
    const target = deadAddress ? url.replace(/\\/\\/[^/]+/, "//" + deadAddress) : url;
    const ws = protocols === undefined ? new Native(target) : new Native(target, protocols);
    open.push(ws);
    return ws;
  }
  Cuttable.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Cuttable[k] = Native[k];
  window.WebSocket = Cuttable;
  window.__pp_cut = (address) => {
    deadAddress = address;
    open.splice(0).forEach((ws) => ws.close());
  };
  window.__pp_restore = () => { deadAddress = null; };
})();
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once it is closed


def tile(page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("group", name=label)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_live_badge_figures_and_catch_up(
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    page = open_page(viewport)
    page.add_init_script(CUTTABLE_SOCKETS)
    sign_in(page, app_url, new_merchant["email"], new_merchant["password"])
    live = page.get_by_role("status").filter(has_text=re.compile("^Live$"))
    expect(live).to_be_visible()
    expect(tile(page, "Gross volume")).to_contain_text("$0.00")

    # The figures follow the feed, without a click.
    email = f"live-{uuid.uuid4().hex[:8]}@example.com"
    assert api_charge(app_url, new_merchant["key"], 4321, email)[0] == 201
    expect(page.locator("table tbody tr", has_text=email)).to_be_visible()
    expect(tile(page, "Gross volume")).to_contain_text("$43.21")
    # Against an empty previous period the change reads "New", not a percentage.
    expect(tile(page, "Gross volume")).to_contain_text("New")
    expect(tile(page, "Successful payments")).to_contain_text("1")

    # Cut: the badge says so at once, and a payment made meanwhile is not on screen.
    dead = f"127.0.0.1:{closed_port()}"
    page.evaluate("address => window.__pp_cut(address)", dead)
    reconnecting = page.get_by_role("status").filter(has_text="Reconnecting…")
    expect(reconnecting).to_be_visible()
    expect(live).to_have_count(0)
    expect(page.get_by_text("Reconnecting… the figures are from")).to_be_visible()
    missed = f"missed-{uuid.uuid4().hex[:8]}@example.com"
    assert api_charge(app_url, new_merchant["key"], 1000, missed)[0] == 201
    page.wait_for_timeout(1000)
    expect(page.locator("table tbody tr", has_text=missed)).to_have_count(0)
    screenshot(page, f"truth-dashboard-reconnecting-{viewport}")

    # Back: Live again, the missed payment in the feed once, and the figures include it.
    page.evaluate("window.__pp_restore()")
    expect(live).to_be_visible(timeout=20_000)
    expect(reconnecting).to_have_count(0)
    expect(page.locator("table tbody tr", has_text=missed)).to_have_count(1)
    expect(page.locator("table tbody tr", has_text=email)).to_have_count(1)
    expect(tile(page, "Gross volume")).to_contain_text("$53.21")
    expect(tile(page, "Successful payments")).to_contain_text("2")
    assert not has_horizontal_scroll(page)
    screenshot(page, f"truth-dashboard-caught-up-{viewport}")

    # And the feed keeps running after the reconnection.
    after = f"after-{uuid.uuid4().hex[:8]}@example.com"
    assert api_charge(app_url, new_merchant["key"], 500, after)[0] == 201
    expect(page.locator("table tbody tr", has_text=after)).to_have_count(1)
    expect(tile(page, "Gross volume")).to_contain_text("$58.21")
    # The only errors are the refused connections of the outage (refused by the page's
    # Content-Security-Policy too: the dead address is not the page's own).
    assert [e for e in console_errors if dead not in e] == []
