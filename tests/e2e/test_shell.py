"""The app shell as a person meets it: sign-in, PWA installability, the dashboard."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_out

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_sign_in_page_renders_cleanly(app_url, open_page, console_errors, viewport) -> None:
    page = open_page(viewport)
    page.goto(f"{app_url}/login")
    page.get_by_role("heading", name="Sign in to your account").wait_for()

    email = page.get_by_label("E-mail")
    password = page.get_by_label("Password")
    assert email.get_attribute("autocomplete") == "username"
    assert password.get_attribute("autocomplete") == "current-password"
    assert password.get_attribute("type") == "password"
    assert not has_horizontal_scroll(page)
    screenshot(page, f"login-{viewport}")
    assert console_errors == []


def test_manifest_is_served_and_valid(app_url) -> None:
    with urllib.request.urlopen(f"{app_url}/manifest.webmanifest") as response:
        assert response.status == 200
        manifest = json.load(response)
    for field in ("name", "short_name", "start_url", "display", "theme_color", "background_color"):
        assert manifest.get(field), f"manifest lacks {field}"
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        with urllib.request.urlopen(f"{app_url}{icon['src']}") as response:
            assert response.status == 200
            assert response.headers["content-type"] == icon["type"]


def test_service_worker_registers_and_serves_offline_page(app_url, open_page) -> None:
    page = open_page("phone")
    page.goto(f"{app_url}/login")
    scope = page.evaluate(
        """async () => {
            const reg = await Promise.race([
                navigator.serviceWorker.ready,
                new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 15000)),
            ]);
            return reg.scope;
        }"""
    )
    assert scope == f"{app_url}/"
    # Head tags a phone needs to install the app.
    assert page.locator('link[rel="manifest"]').count() == 1
    assert page.locator('meta[name="theme-color"]').get_attribute("content") == "#4f46e5"
    assert page.locator('link[rel="apple-touch-icon"]').count() == 1

    # With the network gone, a navigation gets the cached offline page.
    page.reload()  # now controlled by the worker
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    page.context.set_offline(True)
    try:
        page.goto(f"{app_url}/dashboard")
        assert "offline" in page.locator("h1").inner_text().lower()
    finally:
        page.context.set_offline(False)


def test_root_sends_visitors_to_sign_in(app_url, open_page) -> None:
    page = open_page("desktop")
    page.goto(f"{app_url}/")
    page.wait_for_url("**/login**")
    page.goto(f"{app_url}/dashboard")
    page.wait_for_url("**/login?next=%2Fdashboard")


def test_sign_in_waits_for_the_server_connection(app_url, demo, open_page) -> None:
    """Until the page's state has hydrated, Sign in is disabled: a native submit would put the
    password in the address bar."""
    page = open_page("phone")
    # Hold the event socket open without a server behind it, so the page never hydrates.
    page.route_web_socket(re.compile(r"/_event"), lambda ws: None)
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(demo["email"])
    page.get_by_label("Password").fill(demo["password"])
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_disabled()
    page.get_by_label("Password").press("Enter")
    page.wait_for_timeout(500)
    assert "password" not in page.url
    assert page.url.rstrip("/").endswith("/login")


def test_wrong_password_is_refused(app_url, demo, open_page) -> None:
    page = open_page("phone")
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(demo["email"])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").get_by_text("Incorrect e-mail or password").wait_for()
    assert "/login" in page.url


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_sign_in_reaches_dashboard(app_url, demo, open_page, console_errors, viewport) -> None:
    page = open_page(viewport)
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(demo["email"])
    page.get_by_label("Password").fill(demo["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard{,/}")
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_text("Northwind Coffee Roasters").first.wait_for()
    page.get_by_text("Test mode").first.wait_for()
    # Real figures from the seeded payments, not placeholders.
    expect(page.get_by_text("Gross volume").locator("xpath=..")).to_contain_text("$")
    expect(page.locator("table tbody tr")).to_have_count(10)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"dashboard-{viewport}")

    if viewport == "phone":
        page.get_by_role("button", name="Open menu").click()
        drawer = page.get_by_role("dialog")
        drawer.get_by_role("link", name="Dashboard").wait_for()
        page.wait_for_timeout(600)  # let the slide-in animation finish before the picture
        screenshot(page, "dashboard-phone-drawer")
        page.keyboard.press("Escape")
    sign_out(page)
    page.get_by_role("heading", name="Sign in to your account").wait_for()
    # The server-side session is gone: the dashboard asks for sign-in again.
    page.goto(f"{app_url}/dashboard")
    page.wait_for_url("**/login?next=%2Fdashboard")
    assert console_errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_dynamic_route_opened_directly_keeps_the_frame(
    app_url, signed_in, console_errors, viewport
) -> None:
    """/payments/{id} has no prerendered page: its Radix stylesheet arrives after the
    components' own styles, which must still win (the sidebar on desktop, the menu on phones)."""
    page = signed_in(viewport)
    page.goto(f"{app_url}/payments")
    href = page.locator("table tbody tr").first.get_by_role("link").get_attribute("href")
    page.goto(f"{app_url}{href}")  # a full load of the dynamic route, not a client navigation
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    menu = page.get_by_role("button", name="Open menu")
    sidebar = page.get_by_role("link", name="Dashboard")  # the sidebar's first link
    if viewport == "phone":
        expect(menu).to_be_visible()
        expect(sidebar).to_be_hidden()
    else:
        expect(menu).to_be_hidden()
        expect(sidebar).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"payment-direct-{viewport}")
    assert console_errors == []
