"""Forgotten password: ask for a link, then choose a new password through it."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages, accounts


class ForgotPasswordState(rx.State):
    sent_message: str = ""
    error: str = ""
    pending: bool = False

    @rx.event
    def start(self) -> None:
        self.sent_message = self.error = ""
        self.pending = False

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.pending, self.error = True, ""
        yield
        try:
            sent = account_pages.request_password_reset(
                form.get("email", ""), ip_address=self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.pending, self.error = False, exc.message
            return
        self.pending = False
        self.sent_message = sent


class ResetPasswordState(rx.State):
    status: str = "checking"  # checking, ready, invalid, done
    account_email: str = ""
    message: str = ""
    error: str = ""
    strength: int = 0
    strength_message: str = ""
    pending: bool = False

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", ""))

    @rx.event
    def check(self) -> None:
        self.error, self.strength, self.strength_message, self.pending = "", 0, "", False
        try:
            self.account_email = account_pages.check_reset_link(self._token())
        except ServiceError as exc:
            self.status, self.message = "invalid", exc.message
            return
        self.status = "ready"

    @rx.event
    def check_password(self, value: str) -> None:
        if not value:
            self.strength, self.strength_message = 0, ""
            return
        self.strength, self.strength_message = accounts.password_feedback(
            value[:200], email=self.account_email or None
        )

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        password, confirm = form.get("password", ""), form.get("confirm", "")
        if password != confirm:
            self.error = "The two passwords are not the same"
            return
        self.pending, self.error = True, ""
        yield
        try:
            account_pages.reset_password(
                self._token(), password, ip_address=self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.pending, self.error = False, exc.message
            if exc.code == "invalid_link":
                self.status, self.message = "invalid", exc.message
            return
        self.pending, self.status = False, "done"
