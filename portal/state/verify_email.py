"""Confirming an e-mail address from its link, and the banner's "send a new link"."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages
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
            confirmed = account_pages.verify_email(token)
        except ServiceError as exc:
            self.outcome, self.outcome_message = "invalid", exc.message
        else:
            self.outcome, self.outcome_message = "verified", confirmed
        self._load_context()

    @rx.event
    def resend(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            sent = account_pages.resend_verification(ctx)
        except ServiceError as exc:
            self.resend_failed, self.resend_message = True, exc.message
            return None
        self.resend_failed, self.resend_message = False, sent
        return None
