"""Refund limits in the payment page: the step-up threshold and the support refund limit apply
to what was already refunded, so slices of a refund meet them like the whole would."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, api_charge, screenshot, sign_in

pytestmark = pytest.mark.e2e


def refund_in_dialog(page, amount: str):  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Refund", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount to refund").fill(amount)
    dialog.get_by_role("button", name="Review refund").click()
    return dialog


def test_a_sliced_refund_asks_for_a_fresh_code_once_the_total_passes_the_threshold(
    app_url, two_factor_owner, console_errors
) -> None:
    # Above $10.00 refunded on a payment (or by a member in a day), a refund asks for a code.
    owner = two_factor_owner("Heron Books", step_up_refund_threshold=1_000)
    payment = api_charge(app_url, owner.secret_key, 2500, "reader@example.com")[1]
    page = owner.page

    page.goto(f"{app_url}/payments/{payment['id']}")
    refund_in_dialog(page, "6").get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $6.00")  # no code asked

    dialog = refund_in_dialog(page, "14")  # $20.00 in all: past the threshold
    expect(dialog).to_contain_text("You will be asked for a fresh code.")
    screenshot(page, "refund-slice-step-up-desktop")
    page.set_viewport_size(VIEWPORTS["phone"])
    screenshot(page, "refund-slice-step-up-phone")
    dialog.get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Refund this payment")).to_be_visible()
    page.locator("#step-up-code").fill(owner.fresh_code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $14.00")
    expect(page.get_by_text("Partially refunded").first).to_be_visible()
    assert console_errors == []


@pytest.fixture
def support_member(app_env):  # type: ignore[no-untyped-def]
    """(e-mail, password, merchant's test key) of a support member whose limit is $100.00."""
    from backend.core.db import make_engine, session_scope
    from backend.core.ids import new_id
    from backend.core.security import hash_password
    from backend.models import Membership, User, utcnow
    from backend.models.enums import Role
    from backend.services.identity import accounts

    password = "support-member-2026"
    engine = make_engine(app_env["DATABASE_URL"])
    with session_scope(engine) as db:
        created = accounts.create_merchant(
            db, email=f"owner-{uuid.uuid4().hex[:10]}@shop.test", password=password, name="Kite"
        )
        created.merchant.support_refund_limit = 10_000
        user = User(
            id=new_id("usr"),
            email=f"support-{uuid.uuid4().hex[:10]}@shop.test",
            password_hash=hash_password(password),
            email_verified_at=utcnow(),
        )
        db.add_all([created.merchant, user])
        db.flush()
        db.add(
            Membership(
                id=new_id("mem"),
                merchant_id=created.merchant.id,
                user_id=user.id,
                role=Role.SUPPORT,
            )
        )
    engine.dispose()
    return user.email, password, created.test_secret_key


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_support_cannot_slice_a_refund_past_its_limit(
    app_url, support_member, open_page, console_errors, viewport: str
) -> None:
    email, password, key = support_member
    payment = api_charge(app_url, key, 30_000, "reader@example.com")[1]
    page = sign_in(open_page(viewport), app_url, email, password)

    page.goto(f"{app_url}/payments/{payment['id']}")
    refund_in_dialog(page, "60").get_by_role("button", name="Confirm refund").click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $60.00")

    dialog = refund_in_dialog(page, "50")
    expect(dialog).to_contain_text(
        "Support can refund up to $100.00 per payment and per day, counting earlier refunds; "
        "$40.00 of it is left on this payment. Ask an owner or admin for more."
    )
    expect(dialog.get_by_role("button", name="Confirm refund")).to_have_count(0)
    screenshot(page, f"refund-support-limit-{viewport}")
    assert console_errors == []
