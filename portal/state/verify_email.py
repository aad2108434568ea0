"""Confirming an e-mail address from its link, and the banner's "send a new link"."""

from __future__ import annotations

import reflex as rx

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.integrations import email
from backend.services.identity import email_verification
from portal.state.auth import AuthState


class VerifyEmailState(AuthState):
    outcome: str = ""  # "", "verified" or "invalid"
    outcome_message: str = ""
    resend_message: str = ""
    resend_failed: bool = False

    @rx.event
    def verify(self):  # type: ignore[no-untyped-def]
        token = str(self.router.url.query_parameters.get("token", ""))
        try:
            with session_scope() as db:
                user = email_verification.verify(db, token)
        except ServiceError as exc:
            self.outcome, self.outcome_message = "invalid", exc.message
        else:
            self.outcome = "verified"
            self.outcome_message = f"{user.email} is confirmed. Thank you."
        self._load_context()

    @rx.event
    def resend(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            with session_scope() as db:
                email_id = email_verification.resend(db, ctx.user_id, merchant_id=ctx.merchant_id)
        except ServiceError as exc:
            self.resend_failed, self.resend_message = True, exc.message
            return None
        if email_id is not None:
            email.send_recorded(email_id)
        self.resend_failed = False
        self.resend_message = f"We sent a new link to {ctx.email}. It works for 48 hours."
        return None
