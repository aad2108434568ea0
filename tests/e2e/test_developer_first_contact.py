"""A developer's first contact: the empty dashboard's test charge, revealing a test key, and
the API reference served offline inside the app."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import has_horizontal_scroll, screenshot, sign_in
from tests.integration.test_api_docs import check_docs_offline


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_empty_dashboard_offers_a_test_charge_that_works(
    app_url, new_merchant, open_page, console_errors, viewport
):  # type: ignore[no-untyped-def]
    page = sign_in(open_page(viewport), app_url, new_merchant["email"], new_merchant["password"])
    card = page.locator(".pp-quickstart")
    card.get_by_text("Make your first test payment").wait_for()
    command = card.get_by_label("Test charge command").inner_text()
    assert command.startswith(f"curl {app_url}/api/payments/charge")
    assert f"Bearer {new_merchant['key']}" in command and "pm_card_visa" in command
    assert card.get_by_role("button", name="Copy").is_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"quickstart-{viewport}")

    # What a developer pastes into a terminal.
    ran = subprocess.run(
        ["bash", "-c", command + " -s"], capture_output=True, text=True, timeout=30, check=True
    )
    payment = json.loads(ran.stdout)["payment"]
    assert payment["status"] == "succeeded"

    page.get_by_text("$10.00").first.wait_for()  # the live feed shows it at once
    page.reload()
    page.get_by_text("$10.00").first.wait_for()
    # The card gives way to the payments once the reloaded page's load has run (until then the
    # page may show the state it had before the reload).
    expect(page.locator(".pp-quickstart")).to_have_count(0)

    # The same key, revealed on the API keys page.
    page.goto(f"{app_url}/developers/api-keys")
    page.get_by_role("button", name="Reveal Default").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(new_merchant["key"]).wait_for()
    page.wait_for_timeout(400)  # the dialog's opening animation
    assert not has_horizontal_scroll(page)
    screenshot(page, f"reveal-{viewport}")
    assert console_errors == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_api_reference_inside_the_app_loads_nothing_from_outside(app_url, open_page, viewport):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=app_url) as client:
        check_docs_offline(client)
    page = open_page(viewport)
    outside: list[str] = []
    page.on("request", lambda r: r.url.startswith(app_url) or outside.append(r.url))
    page.goto(f"{app_url}/api/docs")
    page.locator(".swagger-ui .info .title").get_by_text("PayPortal API").wait_for()
    page.get_by_text("/api/payments/charge").first.wait_for()
    assert outside == []
    screenshot(page, f"api-docs-{viewport}")
