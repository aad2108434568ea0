"""The portal's account pages, one unit of work per action: who is signed in, signing in (with
its second step), signing out, sign-up, accepting an invitation, the forgotten-password pages,
confirming an e-mail address and the test/live switch.

Each function opens its own unit of work, calls the identity services inside it and returns
plain values the page state copies. E-mails a step records are sent once its transaction has
committed (`_send`), so no lock is held while the provider answers. A sign-in ends in a
one-time grant that the page trades for the HttpOnly cookie (POST /api/session).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.integrations import email
from backend.services.identity import (
    email_verification,
    invitations,
    password_reset,
    sessions,
    signup,
    two_factor,
)


def _send(email_id: str | None) -> None:
    """Send an e-mail recorded by a unit of work that has committed."""
    if email_id is not None:
        email.send_recorded(email_id)


# ---------------------------------------------------------------------------------------------
# Who is signed in


def resolve(token: str | None) -> sessions.SessionContext | None:
    """The session the browser's cookie points at, or None (it may refresh last_seen_at)."""
    with session_scope() as db:
        return sessions.resolve(db, token)


def sign_out(token: str | None) -> None:
    with session_scope() as db:
        sessions.sign_out(db, token)


def set_livemode(session_id: str, livemode: bool) -> None:
    """The header's test/live switch (live waits until the e-mail address is confirmed)."""
    with session_scope() as db:
        sessions.set_livemode(db, session_id, livemode)


# ---------------------------------------------------------------------------------------------
# Signing in


@dataclass(frozen=True)
class SignInStep:
    """After a correct password: a grant for the cookie, or the second factor's ticket."""

    grant: str = ""
    pending_token: str = ""


def begin_sign_in(
    *,
    email: str,
    password: str,
    ip_address: str | None,
    user_agent: str | None,
    device: str | None,
) -> SignInStep:
    with session_scope() as db:
        step = two_factor.begin_login(
            db,
            email=email,
            password=password,
            ip_address=ip_address,
            user_agent=user_agent,
            device=device,
        )
        grant = sessions.issue_grant(db, step.session_token) if step.session_token else ""
    return SignInStep(grant=grant, pending_token=step.pending_token or "")


def sign_in_challenge(pending_token: str | None) -> two_factor.Challenge:
    """The second factors the pending sign-in may use."""
    with session_scope(readonly=True) as db:
        return two_factor.challenge(db, pending_token)


def send_sign_in_sms(pending_token: str | None) -> str:
    """Text a sign-in code; the masked number it went to."""
    with session_scope() as db:
        return two_factor.send_login_sms(db, pending_token)


def complete_sign_in(
    pending_token: str | None,
    *,
    method: str,
    code: str,
    ip_address: str | None,
    user_agent: str | None,
) -> str:
    """The grant for the cookie once the second factor is right."""
    with session_scope() as db:
        token = two_factor.complete_login(
            db,
            pending_token,
            method=method,
            code=code,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        return sessions.issue_grant(db, token)


# ---------------------------------------------------------------------------------------------
# Sign-up and invitations


def sign_up(
    *,
    email: str,
    password: str,
    business_name: str,
    ip_address: str | None,
    user_agent: str | None,
) -> str:
    """Create the account, signed in and unverified; the grant for the cookie. The
    verification e-mail goes out once the account has committed."""
    with session_scope() as db:
        done = signup.sign_up(
            db,
            email=email,
            password=password,
            business_name=business_name,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        grant = sessions.issue_grant(db, done.session_token)
    _send(done.verification_email_id)
    return grant


def look_up_invitation(token: str) -> invitations.InvitationView:
    with session_scope(readonly=True) as db:
        return invitations.look_up(db, token)


def accept_invitation(
    token: str,
    *,
    account_exists: bool,
    password: str,
    full_name: str,
    ip_address: str | None,
    user_agent: str | None,
) -> str:
    """Join the team (with the existing account's password, or a new account); the grant for
    the cookie, or "" when the account proves a second factor at sign-in first."""
    with session_scope() as db:
        if account_exists:
            session_token = invitations.accept_with_existing_account(
                db, token, password=password, ip_address=ip_address, user_agent=user_agent
            )
        else:
            session_token = invitations.accept_with_new_account(
                db,
                token,
                password=password,
                full_name=full_name,
                ip_address=ip_address,
                user_agent=user_agent,
            )
        return sessions.issue_grant(db, session_token) if session_token else ""


# ---------------------------------------------------------------------------------------------
# Forgotten password


def request_password_reset(address: str, *, ip_address: str | None) -> str:
    """Send a reset link if the address has an account; the message shown either way."""
    with session_scope() as db:
        email_id = password_reset.request_reset(db, address, ip_address=ip_address)
    _send(email_id)
    return password_reset.SENT_MESSAGE


def check_reset_link(token: str) -> str:
    """The address a still-valid reset link belongs to."""
    with session_scope(readonly=True) as db:
        return password_reset.check_link(db, token)


def reset_password(token: str, password: str, *, ip_address: str | None) -> None:
    """Set the new password (every session signs out); the notice e-mail follows the commit."""
    with session_scope() as db:
        _, notice_id = password_reset.reset_password(db, token, password, ip_address=ip_address)
    _send(notice_id)


# ---------------------------------------------------------------------------------------------
# E-mail verification


def verify_email(token: str) -> str:
    """Confirm the address a verification link was sent to; the sentence the page shows."""
    with session_scope() as db:
        user = email_verification.verify(db, token)
    return f"{user.email} is confirmed. Thank you."


def resend_verification(ctx: sessions.SessionContext) -> str:
    """A new verification link to the signed-in person; the sentence the banner shows."""
    with session_scope() as db:
        email_id = email_verification.resend(db, ctx.user_id, merchant_id=ctx.merchant_id)
    _send(email_id)
    return f"We sent a new link to {ctx.email}. It works for 48 hours."
