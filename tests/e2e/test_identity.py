"""Identity as people meet it: sign-up and e-mail verification through the dev mailbox,
forgotten passwords, inviting a colleague who then sees only what their role allows, the audit
log and its CSV, and the sessions list. Every page is checked at phone and desktop width."""

from __future__ import annotations

import csv
import io
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import has_horizontal_scroll, screenshot, sign_out

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def _address(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}@shop.test"


def _open_mail(page: Page, app_url: str, to: str, subject_part: str) -> None:
    """Open the newest e-mail to `to` in /dev/mailbox."""
    page.goto(f"{app_url}/dev/mailbox")
    page.get_by_role("heading", name="Mailbox").wait_for()
    page.get_by_role("link").filter(has_text=to).filter(has_text=subject_part).first.click()
    page.wait_for_url("**/dev/mailbox/eml_*")
    page.get_by_role("heading", level=1).filter(has_text=subject_part).wait_for()


def _follow_link(page: Page, path: str) -> None:
    page.locator(f'a[href*="{path}?token="]').first.click()
    page.wait_for_url(f"**{path}**")


def _hydrated(page: Page, selector: str) -> None:
    """Wait until React has attached its handlers to the element (typing earlier is lost)."""
    page.wait_for_function(
        """(sel) => { const el = document.querySelector(sel);
            return !!el && Object.keys(el).some((k) => k.startsWith("__reactProps")); }""",
        arg=selector,
    )


def _sign_up(page: Page, app_url: str, address: str, business: str) -> None:
    page.goto(f"{app_url}/signup")
    page.locator('form[data-ready="true"]').wait_for()
    page.get_by_label("Business name").fill(business)
    page.get_by_label("E-mail").fill(address)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_text("Use at least 10 characters").wait_for()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_text(re.compile(r"(Acceptable|Good|Strong|Very strong)")).wait_for()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard{,/}")


def _sign_in(page: Page, app_url: str, address: str, password: str) -> None:
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard{,/}")


def _check_layout(page: Page, name: str) -> None:
    assert not has_horizontal_scroll(page), f"{name} scrolls sideways"
    screenshot(page, name)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_sign_up_verify_through_the_mailbox_then_sign_in(
    app_url: str, open_page, console_errors: list[str], viewport: str
) -> None:
    page = open_page(viewport)
    page.goto(f"{app_url}/signup")
    page.get_by_role("heading", name="Create your PayPortal account").wait_for()
    _check_layout(page, f"signup-{viewport}")

    address = _address("founder")
    _sign_up(page, app_url, address, "Founders Tea")
    banner = page.get_by_role("status").filter(has_text="Confirm your e-mail address")
    banner.wait_for()
    page.get_by_role("heading", name="Dashboard").wait_for()
    _check_layout(page, f"verify-banner-{viewport}")
    banner.get_by_role("button", name="Send a new link").click()
    page.get_by_text(re.compile(r"You can ask for another in \d+ seconds")).wait_for()

    _open_mail(page, app_url, address, "Confirm your e-mail")
    if viewport == "phone":
        page.goto(f"{app_url}/dev/mailbox")
        page.get_by_role("heading", name="Mailbox").wait_for()
        _check_layout(page, "mailbox-phone")
        _open_mail(page, app_url, address, "Confirm your e-mail")
    _check_layout(page, f"mailbox-message-{viewport}")
    _follow_link(page, "/verify-email")
    verify_url = page.url
    page.get_by_role("heading", name="E-mail address confirmed").wait_for()
    _check_layout(page, f"verify-email-{viewport}")
    page.get_by_role("link", name="Go to your dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    expect(banner).to_have_count(0)  # (the set-up checklist keeps the step, ticked)

    # The same link again no longer works.
    page.goto(verify_url)
    page.get_by_role("heading", name="This link does not work").wait_for()

    # Sign out, then back in with the new account.
    page.goto(f"{app_url}/dashboard")
    page.get_by_role("heading", name="Dashboard").wait_for()
    sign_out(page)
    _sign_in(page, app_url, address, PASSWORD)
    page.get_by_text("Founders Tea").first.wait_for()
    assert console_errors == []


def test_forgotten_password_reset_through_the_mailbox(
    app_url: str, open_page, console_errors: list[str]
) -> None:
    owner = open_page("desktop")
    address = _address("forgetful")
    _sign_up(owner, app_url, address, "Forgetful Shop")  # this browser stays signed in

    page = open_page("phone")
    page.goto(f"{app_url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/forgot-password")
    _check_layout(page, "forgot-password-phone")
    page.locator('form[data-ready="true"]').wait_for()
    page.get_by_label("E-mail").fill(_address("nobody"))
    page.get_by_role("button", name="Send the link").click()
    sent = page.get_by_text("If an account uses that address")
    sent.wait_for()
    unknown_text = sent.inner_text()

    page.goto(f"{app_url}/forgot-password")
    page.locator('form[data-ready="true"]').wait_for()
    page.get_by_label("E-mail").fill(address)
    page.get_by_role("button", name="Send the link").click()
    assert page.get_by_text("If an account uses that address").inner_text() == unknown_text

    _open_mail(page, app_url, address, "Reset your PayPortal password")
    _follow_link(page, "/reset-password")
    page.get_by_role("heading", name="Choose a new password").wait_for()
    page.get_by_text(address).wait_for()
    _hydrated(page, "#password")
    _check_layout(page, "reset-password-phone")
    new_password = "a brand new passphrase"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Repeat the new password").fill(new_password + "x")
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_text("The two passwords are not the same").wait_for()
    page.get_by_label("Repeat the new password").fill(new_password)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_text("Your password has been changed").wait_for()
    page.reload()
    page.get_by_text("expired or was already used").wait_for()

    # The other browser's session ended with the reset.
    owner.goto(f"{app_url}/payments")
    owner.wait_for_url("**/login?next=%2Fpayments")
    _sign_in(page, app_url, address, new_password)
    assert console_errors == []


def test_invited_analyst_sees_a_restricted_portal_and_the_server_refuses(
    app_url: str, open_page, browser, console_errors: list[str]
) -> None:
    owner = open_page("desktop")
    owner_address = _address("owner")
    _sign_up(owner, app_url, owner_address, "Team Bakery")
    _open_mail(owner, app_url, owner_address, "Confirm your e-mail")
    _follow_link(owner, "/verify-email")
    owner.get_by_role("heading", name="E-mail address confirmed").wait_for()

    owner.goto(f"{app_url}/team")
    owner.get_by_role("heading", name="Invite a team member").wait_for()
    owner.get_by_text("No pending invitations").wait_for()
    analyst_address = _address("analyst")
    owner.get_by_label("E-mail").fill(analyst_address)
    owner.get_by_role("combobox", name="Role for the invitation").click()
    owner.get_by_role("option", name="Analyst").click()
    owner.get_by_role("button", name="Send invitation").click()
    owner.get_by_text(f"Invitation sent to {analyst_address} as Analyst").wait_for()
    owner.get_by_role("button", name=f"Revoke the invitation of {analyst_address}").wait_for()
    owner.get_by_role("table").get_by_text("Read and export the audit log").wait_for()
    _check_layout(owner, "team-desktop")

    # The colleague, in another browser.
    colleague = open_page("phone")
    _open_mail(colleague, app_url, analyst_address, "invited you to Team Bakery")
    _follow_link(colleague, "/accept-invite")
    colleague.get_by_role("heading", name="Join Team Bakery").wait_for()
    _check_layout(colleague, "accept-invite-phone")
    colleague.get_by_label("Your name").fill("Ana Lyst")
    colleague.get_by_label("Choose a password").fill("analyst passphrase 1")
    colleague.get_by_label("Repeat the password").fill("analyst passphrase 1")
    colleague.get_by_role("button", name="Create account and join").click()
    colleague.wait_for_url("**/dashboard{,/}")
    colleague.get_by_text("Team Bakery").first.wait_for()

    colleague.goto(f"{app_url}/team")
    colleague.get_by_role("heading", name="Members").wait_for()
    colleague.get_by_text(owner_address).wait_for()
    expect(colleague.get_by_role("heading", name="Invite a team member")).to_have_count(0)
    expect(colleague.get_by_role("button", name=re.compile("Remove"))).to_have_count(0)
    _check_layout(colleague, "team-phone")
    colleague.goto(f"{app_url}/audit-log")
    colleague.get_by_text("Your role (Analyst) cannot read the audit log").wait_for()
    _check_layout(colleague, "audit-log-denied-phone")
    # Hiding is only a courtesy: the server refuses the export outright.
    refused = colleague.request.get(f"{app_url}/api/portal/audit-log.csv")
    assert refused.status == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    console_errors.clear()  # the 403 above is expected

    # The owner sees the new member and makes them support.
    owner.goto(f"{app_url}/team")
    owner.get_by_text(analyst_address, exact=True).wait_for()
    owner.get_by_role("combobox", name=f"Role of {analyst_address}").click()
    owner.get_by_role("option", name="Support").click()
    owner.get_by_text("Role changed to Support").wait_for()
    _check_layout(owner, "team-desktop")

    # The audit log shows it all; filter by action and download the CSV.
    owner.goto(f"{app_url}/audit-log")
    owner.get_by_role("heading", name="Audit log").wait_for()
    owner.get_by_text("Role changed", exact=True).first.wait_for()
    owner.get_by_role("combobox", name="Action").click()
    owner.get_by_role("option", name="Invitation accepted").click()
    expect(owner.get_by_role("listitem")).to_have_count(1)
    owner.get_by_text("by Ana Lyst").wait_for()  # the name they gave
    _check_layout(owner, "audit-log-desktop")
    with owner.expect_download() as download_info:
        owner.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [r["action"] for r in rows] == ["invitation.accepted"]
    assert rows[0]["actor"] == "Ana Lyst"
    assert console_errors == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_pages_at_both_widths(app_url: str, signed_in, console_errors: list[str], viewport) -> None:
    page = signed_in(viewport)
    page.goto(f"{app_url}/audit-log")
    page.get_by_text("Signed in", exact=True).first.wait_for()
    _check_layout(page, f"audit-log-{viewport}")
    page.goto(f"{app_url}/team")
    page.get_by_role("heading", name="What each role can do").wait_for()
    _check_layout(page, f"team-owner-{viewport}")
    page.goto(f"{app_url}/settings/sessions")
    page.get_by_text("This device").wait_for()
    _check_layout(page, f"sessions-{viewport}")
    assert console_errors == []


def test_sign_out_other_sessions(app_url: str, signed_in, console_errors: list[str]) -> None:
    first = signed_in("desktop")
    second = signed_in("phone")
    second.goto(f"{app_url}/settings/sessions")
    second.get_by_text("This device").wait_for()
    second.get_by_role("button", name="Sign out other sessions").click()
    second.get_by_text(re.compile(r"Signed out \d+ other session")).wait_for()
    expect(second.get_by_role("button", name="Sign out other sessions")).to_have_count(0)
    first.goto(f"{app_url}/payments")
    first.wait_for_url("**/login?next=%2Fpayments")
    assert console_errors == []
