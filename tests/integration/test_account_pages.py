"""The portal pages' service functions (identity, team, API keys, mailbox): each opens its own
unit of work, sends the e-mails a step recorded once it has committed, and returns the plain
values the page states copy. On SQLite and PostgreSQL."""

from __future__ import annotations

import pyotp
import pytest
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import (
    AuthenticationFailed,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from backend.models import AuditLog, OutboundEmail, User, UserSession, utcnow
from backend.models.enums import Role
from backend.services.identity import (
    account_pages,
    password_reset,
    security_pages,
    sessions,
    team_pages,
    viewers,
)
from backend.services.identity.step_up import StepUpRequired
from backend.services.merchant import api_keys_page, dev_mailbox
from tests.integration.identity_support import (
    PASSWORD,
    fresh,
    last_email,
    link_token,
    member,
    sign_up,
    unique_email,
)

pytestmark = pytest.mark.usefixtures("configured_app")
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Safari/537.36"
)


def _cookie(grant: str) -> str:
    """The session token the grant trades for (what POST /api/session does)."""
    with session_scope() as db:
        token, _ = sessions.redeem_grant(db, grant)
    return token


def _two_factor_on(ctx: sessions.SessionContext) -> list[str]:
    enrolment = security_pages.begin_enrolment(ctx)
    return security_pages.confirm_enrolment(ctx, pyotp.TOTP(enrolment.secret).now())


def test_sign_up_signs_in_and_sends_the_verification_link_after_commit():
    address = unique_email()
    grant = account_pages.sign_up(
        email=address,
        password=PASSWORD,
        business_name="Shop",
        ip_address="127.0.0.1",
        user_agent=AGENT,
    )
    ctx = account_pages.resolve(_cookie(grant))
    assert ctx is not None and ctx.email == address and not ctx.email_verified
    assert last_email(address, "email_verification").status == "sent"

    with pytest.raises(RateLimited):  # the first link went out a moment ago
        account_pages.resend_verification(ctx)
    confirmed = account_pages.verify_email(link_token(address, "email_verification"))
    assert confirmed == f"{address} is confirmed. Thank you."
    with pytest.raises(ValidationFailed):
        account_pages.sign_up(
            email=address, password=PASSWORD, business_name="", ip_address=None, user_agent=None
        )


def test_sign_in_with_and_without_a_second_factor():
    address = unique_email()
    token, ctx = sign_up(address)
    step = account_pages.begin_sign_in(
        email=address, password=PASSWORD, ip_address="127.0.0.1", user_agent=AGENT, device=None
    )
    assert step.grant and not step.pending_token
    assert account_pages.resolve(_cookie(step.grant)) is not None

    codes = _two_factor_on(ctx)
    step = account_pages.begin_sign_in(
        email=address, password=PASSWORD, ip_address="127.0.0.1", user_agent=AGENT, device=None
    )
    assert step.pending_token and not step.grant
    challenge = account_pages.sign_in_challenge(step.pending_token)
    assert challenge.methods == ["totp", "recovery"] and challenge.phone_hint == ""
    with pytest.raises(AuthenticationFailed):
        account_pages.complete_sign_in(
            step.pending_token, method="recovery", code="nope", ip_address=None, user_agent=None
        )
    grant = account_pages.complete_sign_in(
        step.pending_token, method="recovery", code=codes[0], ip_address=None, user_agent=AGENT
    )
    assert account_pages.resolve(_cookie(grant)) is not None

    account_pages.sign_out(token)
    assert account_pages.resolve(token) is None


def test_the_livemode_switch_waits_for_a_confirmed_address():
    _, ctx = sign_up(verified=False)
    with pytest.raises(PermissionDenied):
        account_pages.set_livemode(ctx.session_id, True)
    token, ctx = sign_up()
    account_pages.set_livemode(ctx.session_id, True)
    switched = account_pages.resolve(token)
    assert switched is not None and switched.livemode


def test_password_reset_pages_send_their_e_mails_after_commit():
    address = unique_email()
    token, _ = sign_up(address)
    assert account_pages.request_password_reset(address, ip_address=None) == (
        password_reset.SENT_MESSAGE
    )
    assert last_email(address, "password_reset").status == "sent"
    link = link_token(address, "password_reset")
    assert account_pages.check_reset_link(link) == address
    account_pages.reset_password(link, "a brand new passphrase 7", ip_address="127.0.0.1")
    assert last_email(address, "password_changed").status == "sent"
    assert account_pages.resolve(token) is None  # every session signed out
    # Unknown addresses get the same answer and no e-mail.
    assert account_pages.request_password_reset(unique_email(), ip_address=None) == (
        password_reset.SENT_MESSAGE
    )


def test_an_invitation_accepted_through_the_page_functions():
    _, owner = sign_up()
    address = unique_email("dev")
    assert team_pages.invite(owner, f" {address} ", "developer") == (
        f"Invitation sent to {address} as Developer."
    )
    assert last_email(address, "team_invitation").status == "sent"
    link = link_token(address, "team_invitation")
    view = account_pages.look_up_invitation(link)
    assert view.email == address and not view.account_exists
    grant = account_pages.accept_invitation(
        link,
        account_exists=False,
        password="member passphrase 42",
        full_name="Dev",
        ip_address=None,
        user_agent=None,
    )
    joined = account_pages.resolve(_cookie(grant))
    assert joined is not None and joined.role == Role.DEVELOPER


def test_team_overview_and_changes():
    _, owner = sign_up()
    dev = member(owner.merchant_id, Role.DEVELOPER)
    found = team_pages.overview(owner)
    assert found.can_manage and found.can_transfer
    assert [m.role for m in found.members] == ["owner", "developer"]
    assert found.members[0].you and not found.members[1].you
    assert found.members[1].role_label == "Developer" and found.pending == []

    seen_by_dev = team_pages.overview(dev)
    assert not seen_by_dev.can_manage and not seen_by_dev.can_transfer
    with pytest.raises(PermissionDenied):
        team_pages.change_role(dev, found.members[1].id, "admin")

    target = found.members[1].id
    with session_scope() as db:  # a new owner must have confirmed their address
        user = db.get(User, dev.user_id)
        assert user is not None
        user.email_verified_at = utcnow()
        db.add(user)
    assert team_pages.change_role(owner, target, "admin") == "Role changed to Admin."
    assert team_pages.transfer_ownership(owner, target, PASSWORD) == (
        "Ownership transferred. You are now an admin."
    )
    with session_scope(readonly=True) as db:
        notice = db.exec(
            select(OutboundEmail).where(
                OutboundEmail.template == "ownership_transferred",
                OutboundEmail.merchant_id == owner.merchant_id,
            )
        ).first()
    assert notice is not None and notice.status == "sent"
    # The new owner (the services read roles from the database, not the context).
    assert team_pages.remove_member(dev, found.members[0].id) == (
        "Member removed; their sessions have ended."
    )
    assert [m.email for m in team_pages.overview(dev).members] == [dev.email]


def test_security_page_and_step_up_choice():
    _, ctx = sign_up()
    overview = security_pages.security_overview(ctx)
    assert overview == security_pages.SecurityOverview(False, 0, "")
    assert security_pages.step_up_choice(ctx) == security_pages.StepUpChoice([], "")

    codes = _two_factor_on(ctx)
    assert len(codes) == 10
    overview = security_pages.security_overview(ctx)
    assert overview is not None and overview.two_factor_on and overview.recovery_codes_left == 10
    assert security_pages.step_up_choice(ctx).methods == ["totp", "recovery"]


def test_a_new_phone_on_a_protected_account_takes_a_fresh_code():
    _, plain = sign_up()  # no 2FA: no fresh code needed
    assert security_pages.start_phone_enrolment(plain, "+14155550123").endswith("0123")
    _, ctx = sign_up()
    _two_factor_on(ctx)
    with session_scope() as db:  # the window confirm_enrolment opened has passed
        row = db.get(UserSession, ctx.session_id)
        assert row is not None
        row.step_up_at = None
        db.add(row)
    with pytest.raises(StepUpRequired):
        security_pages.start_phone_enrolment(ctx, "+14155550124")
    fresh(ctx)
    assert security_pages.start_phone_enrolment(ctx, "+14155550124").endswith("0124")
    texts = security_pages.sandbox_texts()
    assert texts is not None and texts[0].to == "+14155550124"


def test_sessions_list_puts_the_current_browser_first():
    address = unique_email()
    token, ctx = sign_up(address)
    step = account_pages.begin_sign_in(
        email=address, password=PASSWORD, ip_address="10.0.0.9", user_agent=AGENT, device=None
    )
    other = account_pages.resolve(_cookie(step.grant))
    assert other is not None
    rows = security_pages.signed_in_sessions(ctx)
    assert [r.current for r in rows] == [True, False]
    assert rows[1].device == "Chrome 140 on Linux" and rows[1].ip == "10.0.0.9"
    assert security_pages.sign_out_others(ctx) == 1
    assert [r.id for r in security_pages.signed_in_sessions(ctx)] == [ctx.session_id]
    with session_scope(readonly=True) as db:
        actions = db.exec(select(AuditLog.action).where(AuditLog.actor_id == ctx.user_id)).all()
    assert "user.signed_out_other_sessions" in actions
    assert account_pages.resolve(token) is not None


def test_api_keys_page_rows_and_refusals():
    _, owner = sign_up()
    assert api_keys_page.may_manage(owner)
    created = api_keys_page.create(owner, "CI")
    assert created.name == "CI" and created.secret.startswith("sk_test_")
    listed = api_keys_page.read_keys(owner)
    row = next(k for k in listed.keys if k.name == "CI")
    assert row.status == "active" and row.revealable and row.masked.endswith(created.secret[-4:])
    assert listed.timezone == viewers.merchant_timezone(owner.merchant_id)
    assert api_keys_page.reveal(owner, row.id) == created.secret
    api_keys_page.revoke(owner, row.id)
    assert next(k for k in api_keys_page.read_keys(owner).keys if k.id == row.id).status == (
        "revoked"
    )

    analyst = member(owner.merchant_id, Role.ANALYST)
    assert not api_keys_page.may_manage(analyst)
    with pytest.raises(PermissionDenied):
        api_keys_page.read_keys(analyst)


def test_viewer_of_a_session():
    _, ctx = sign_up()
    viewer = viewers.viewer_of(ctx)
    assert viewer is not None and viewer.timezone == viewers.merchant_timezone(ctx.merchant_id)
    assert viewer.scope.merchant_id == ctx.merchant_id
    assert viewer.actor("127.0.0.1").id == ctx.user_id


def test_dev_mailbox_reads():
    address = unique_email()
    sign_up(address)
    listed = dev_mailbox.read_messages()
    mine = next(m for m in listed if m.to == address)
    assert mine.template == "Email verification"
    opened = dev_mailbox.read_message(mine.id)
    assert opened is not None and opened.to == address and opened.status == "sent"
    assert any(s.href for line in opened.lines for s in line)
    assert dev_mailbox.read_message("eml_missing") is None
