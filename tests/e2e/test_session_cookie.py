"""The session cookie as a browser holds it: set by the server HttpOnly, never visible to a
script, kept across a reload, cleared by signing out. Pages load under the Content-Security-
Policy without violations. A guessable password is refused on the sign-up page with the
reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e
DASHBOARD = re.compile(r".*/dashboard/?(\?.*)?$")


def _cookie(page: Page, name: str) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == name), None)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_session_cookie_is_httponly_and_sign_out_clears_it(
    app_url: str, demo: dict[str, str], open_page, console_errors: list[str], viewport: str
) -> None:
    page = open_page(viewport)
    page.goto(f"{app_url}/login")
    page.get_by_role("button", name="Sign in").wait_for()
    screenshot(page, f"session-login-{viewport}")
    sign_in(page, app_url, demo["email"], demo["password"])

    session = _cookie(page, "pp_session")
    assert session is not None and session["value"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"
    device = _cookie(page, "pp_device")
    assert device is not None and device["httpOnly"]
    # No script can read either.
    readable = page.evaluate("document.cookie")
    assert "pp_session" not in readable and session["value"] not in readable
    assert "pp_device" not in readable
    # The page answered under the security headers.
    headers = page.request.get(f"{app_url}/dashboard").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

    # A reload keeps the person signed in (the new websocket handshake carries the cookie).
    page.reload()
    page.wait_for_url(DASHBOARD)
    expect(page.get_by_text(demo["email"]).first).to_be_attached()
    screenshot(page, f"session-dashboard-{viewport}")

    # Signing out clears the cookie, and the old token no longer opens the portal. On a desktop
    # through the portal's own button (its event posts to /api/session/sign-out); on a phone
    # the same post straight from the page.
    button = page.get_by_role("button", name="Sign out")
    if viewport == "desktop" and button.count() == 1:
        button.scroll_into_view_if_needed()
        button.click()
    else:
        page.evaluate(
            """() => { const f = document.createElement("form"); f.method = "POST";
                f.action = "/api/session/sign-out"; document.body.appendChild(f); f.submit(); }"""
        )
    page.wait_for_url("**/login**")
    assert _cookie(page, "pp_session") is None
    page.context.add_cookies(
        [{"name": "pp_session", "value": session["value"], "url": app_url, "httpOnly": True}]
    )
    page.goto(f"{app_url}/payments")
    page.wait_for_url("**/login?next=**")
    assert [e for e in console_errors if "Content Security Policy" in e] == []
    assert console_errors == [], console_errors


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_sign_up_refuses_a_guessable_password_and_says_why(
    app_url: str, open_page, console_errors: list[str], viewport: str
) -> None:
    page = open_page(viewport)
    page.goto(f"{app_url}/signup")
    page.locator('form[data-ready="true"]').wait_for()
    page.get_by_label("Business name").fill("Weak Password Co")
    page.get_by_label("E-mail").fill(f"weak-{viewport}@shop.test")
    page.get_by_label("Password", exact=True).fill("password12")
    reason = page.locator("#password-strength")
    expect(reason).to_contain_text("too easy to guess")
    expect(reason).to_contain_text("This is a very common password")
    screenshot(page, f"signup-weak-password-{viewport}")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert").filter(has_text="too easy to guess").first).to_be_visible()
    assert not DASHBOARD.match(page.url)
    screenshot(page, f"signup-weak-password-refused-{viewport}")
    assert [e for e in console_errors if "Content Security Policy" in e] == []
