"""Sign-up: the form with live password feedback; the account starts signed in, unverified."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages, accounts
from portal.state.auth import AuthState, enter_portal


class SignupState(AuthState):
    email_value: str = ""
    strength: int = 0
    strength_message: str = ""
    error: str = ""
    error_field: str = ""
    pending: bool = False

    @rx.event
    def start(self):  # type: ignore[no-untyped-def]
        self.error = self.error_field = self.strength_message = ""
        self.strength, self.pending = 0, False
        if self._load_context() is not None:
            return rx.redirect("/dashboard")
        return None

    @rx.event
    def set_email_value(self, value: str) -> None:
        self.email_value = value[:320]

    @rx.event
    def check_password(self, value: str) -> None:
        if not value:
            self.strength, self.strength_message = 0, ""
            return
        self.strength, self.strength_message = accounts.password_feedback(
            value[:200], email=self.email_value or None
        )

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.pending, self.error, self.error_field = True, "", ""
        yield
        try:
            grant = account_pages.sign_up(
                email=form.get("email", ""),
                password=form.get("password", ""),
                business_name=form.get("name", ""),
                ip_address=self.router.session.client_ip or None,
                user_agent=self.router.headers.user_agent or None,
            )
        except ServiceError as exc:
            self.pending = False
            self.error, self.error_field = exc.message, exc.param or ""
            return
        yield enter_portal(grant, "/dashboard")
