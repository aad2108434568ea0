"""A refund above the merchant's step-up threshold asks for a fresh code, then goes through."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from backend.db import make_engine, session_scope
from backend.ids import new_id
from backend.models import UserSession, utcnow
from backend.services import accounts, two_factor
from tests.e2e.test_portal_money import _charge

pytestmark = pytest.mark.e2e
PASSWORD = "refund-step-up-2026"


def _next_step(after: int) -> None:
    while int(time.time()) // 30 <= after:
        time.sleep(0.5)


def test_a_large_refund_asks_for_a_fresh_code_then_goes_through(
    app_url, app_env, demo, open_page, console_errors
) -> None:
    engine = make_engine(app_env["DATABASE_URL"])
    email = f"refunds-{new_id('e')}@shop.test"
    with session_scope(engine) as db:
        created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Heron Books")
        created.user.email_verified_at = utcnow()
        created.merchant.step_up_refund_threshold = 1_000  # above $10.00, a fresh code
        db.add_all([created.user, created.merchant])
        totp = pyotp.TOTP(two_factor.begin_enrolment(db, created.user.id).secret)
    with session_scope(engine) as db:
        two_factor.confirm_enrolment(db, created.user.id, totp.now())
    enrol_step = int(time.time()) // 30
    payment = _charge(app_url, created.test_secret_key, 2500, "reader@example.com")

    page = open_page("desktop")
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/two-factor**")
    _next_step(enrol_step)
    login_step = int(time.time()) // 30
    page.get_by_role("textbox", name="Code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/dashboard")
    with session_scope(engine) as db:  # as if the sign-in's proof were long ago
        db.exec(update(UserSession).values(step_up_at=None))  # type: ignore[call-overload]
    engine.dispose()

    page.goto(f"{app_url}/payments/{payment['id']}")
    page.get_by_role("button", name="Refund", exact=True).click()
    refund = page.get_by_role("dialog")
    refund.get_by_label("Amount to refund").fill("20")
    refund.get_by_role("button", name="Review refund").click()
    refund.get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Refund this payment")).to_be_visible()
    _next_step(login_step)
    page.locator("#step-up-code").fill(totp.now())
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $20.00")
    expect(page.get_by_text("Partially refunded").first).to_be_visible()
    assert console_errors == []
