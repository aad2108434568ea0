"""Two-factor sign-in, step-up, API keys, webhooks and the test/live switch, in a browser.

A merchant of its own (the demo owner signs in with a password only in the other tests).
"""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from backend.core.db import make_engine, session_scope
from backend.core.ids import new_id
from backend.models import UserSession, utcnow
from backend.services.identity import accounts
from tests.e2e.conftest import code_after, has_horizontal_scroll, screenshot, sign_out
from tests.fakes.receiver import Receiver, Reply

pytestmark = pytest.mark.e2e
PASSWORD = "two-factor-e2e-2026"


def sign_in_password(page: Page, app_url: str, email: str) -> None:
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="module")
def merchant(app_env: dict[str, str], app_url: str) -> dict[str, str]:
    engine = make_engine(app_env["DATABASE_URL"])
    email = f"security-{new_id('e')}@shop.test"
    with session_scope(engine) as db:
        created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Kestrel Tea")
        created.user.email_verified_at = utcnow()  # live mode needs a confirmed address
        db.add(created.user)
    engine.dispose()
    return {"email": email}


def _stale_step_up(app_env: dict[str, str]) -> None:
    """As if the last second-factor proof were long ago (the step-up window is 5 minutes)."""
    engine = make_engine(app_env["DATABASE_URL"])
    with session_scope(engine) as db:
        db.exec(update(UserSession).values(step_up_at=None))  # type: ignore[call-overload]
    engine.dispose()


def test_two_factor_step_up_keys_webhooks_and_live_mode(
    app_url, app_env, merchant, open_page, console_errors
) -> None:
    page = open_page("desktop")
    sign_in_password(page, app_url, merchant["email"])
    page.wait_for_url("**/dashboard{,/}")

    # Enrol: the key shown as text gives the code, as an authenticator app would.
    page.goto(f"{app_url}/settings/security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    totp = pyotp.TOTP(key)
    enrol_code, enrol_step = totp.now(), int(time.time()) // 30
    page.get_by_label("Code from the app").fill(enrol_code)
    page.get_by_role("button", name="Turn on").click()
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    screenshot(page, "security-recovery-codes-desktop")
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_text("Recovery codes left:")).to_be_visible()
    sign_out(page)

    # Sign in: the password alone gives no session; a reused code is refused.
    sign_in_password(page, app_url, merchant["email"])
    page.wait_for_url("**/login/two-factor**")
    screenshot(page, "two-factor-login-desktop")
    page.get_by_role("textbox", name="Code").fill(enrol_code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    assert page.context.cookies() == [] or all(
        c["name"] != "pp_session" or not c["value"] for c in page.context.cookies()
    )
    login_code, login_step = code_after(totp, enrol_step)
    page.get_by_role("textbox", name="Code").fill(login_code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/dashboard{,/}")
    sign_out(page)

    # A recovery code signs in once.
    sign_in_password(page, app_url, merchant["email"])
    page.wait_for_url("**/login/two-factor**")
    page.get_by_text("Recovery code", exact=True).click()
    page.get_by_role("textbox", name="Code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/dashboard{,/}")

    # Roll an API key: a fresh code is asked, then the roll goes through by itself.
    _stale_step_up(app_env)
    page.goto(f"{app_url}/developers/api-keys")
    expect(page.locator(".pp-api-key")).to_have_count(1)
    page.get_by_role("button", name="Roll Default").click()
    page.get_by_role("button", name="Roll key").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    step_up_code, step_up_step = code_after(totp, login_step)
    page.locator("#step-up-code").fill(step_up_code)
    merchant["key"], merchant["last_step"] = key, str(step_up_step)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Secret key")).to_contain_text("sk_test_")
    screenshot(page, "api-key-rolled-desktop")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".pp-api-key")).to_have_count(2)
    expect(page.get_by_text("Expires", exact=False)).to_be_visible()

    # A webhook endpoint on a local receiver: a delivery in its log, then a redelivery.
    with Receiver() as hook:
        hook.script(Reply(500))
        page.goto(f"{app_url}/developers/webhooks")
        expect(page.get_by_text("No test endpoints yet.", exact=False)).to_be_visible()
        page.get_by_role("button", name="Add endpoint").click()
        page.get_by_label("Endpoint URL").fill(f"{hook.url}/hooks")
        page.get_by_role("dialog").get_by_role("button", name="Add endpoint").click()
        page.wait_for_url("**/developers/webhooks/we_*")
        expect(page.get_by_role("dialog", name="Signing secret")).to_contain_text("whsec_")
        page.get_by_role("button", name="Done").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        page.get_by_role("button", name="Send test event").click()
        delivery = page.locator(".pp-delivery").first
        expect(delivery).to_contain_text("webhook.test")
        expect(delivery).to_contain_text("Answered 500 Internal Server Error")
        delivery.get_by_role("button", name="Details").click()
        expect(delivery).to_contain_text('"type": "webhook.test"')
        screenshot(page, "webhook-endpoint-desktop")
        delivery.get_by_role("button", name="Redeliver").click()
        expect(page.locator(".pp-delivery").first).to_contain_text("Succeeded")
        assert [r.status for r in hook.received] == [500, 200]

    # Live mode: the switch is kept on the server and every page follows it.
    page.goto(f"{app_url}/developers/api-keys")
    expect(page.locator(".pp-api-key")).to_have_count(2)
    page.get_by_role("switch", name="Live mode").click()
    expect(page.get_by_text("Live mode", exact=True)).to_be_visible()
    expect(page.get_by_text("No live keys yet.", exact=False)).to_be_visible()
    page.reload()
    expect(page.get_by_text("No live keys yet.", exact=False)).to_be_visible()
    screenshot(page, "api-keys-live-desktop")
    page.goto(f"{app_url}/developers/webhooks")
    expect(page.get_by_text("No live endpoints yet.", exact=False)).to_be_visible()
    page.get_by_role("switch", name="Live mode").click()
    expect(page.locator("a[href^='/developers/webhooks/we_']")).to_have_count(1)
    assert console_errors == []


def test_pages_fit_a_phone(app_url, merchant, open_page) -> None:
    if "key" not in merchant:
        pytest.skip("needs the account enrolled by the test above")
    page = open_page("phone")
    sign_in_password(page, app_url, merchant["email"])
    page.wait_for_url("**/login/two-factor**")
    assert not has_horizontal_scroll(page)
    screenshot(page, "two-factor-login-phone")
    code, _step = code_after(pyotp.TOTP(merchant["key"]), int(merchant["last_step"]))
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/dashboard{,/}")
    for path, name, ready in [
        ("/settings/security", "security", "Recovery codes left:"),
        ("/developers/api-keys", "api-keys", "Last used"),
        ("/developers/webhooks", "webhooks", "All events"),
    ]:
        page.goto(f"{app_url}{path}")
        expect(page.get_by_text(ready, exact=False).first).to_be_visible()
        assert not has_horizontal_scroll(page), path
        screenshot(page, f"{name}-phone")
    page.locator("a[href^='/developers/webhooks/we_']").first.click()
    expect(page.locator(".pp-delivery").first).to_be_visible()
    page.locator(".pp-delivery").first.get_by_role("button", name="Details").click()
    expect(page.get_by_text('"type": "webhook.test"', exact=False)).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, "webhook-endpoint-phone")
    page.goto(f"{app_url}/dev/sms")
    expect(page.get_by_role("heading", name="SMS outbox")).to_be_visible()
    assert not has_horizontal_scroll(page)
