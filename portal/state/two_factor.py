"""The second step of signing in: a code from the app, a text message or a recovery code."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages, security_pages
from portal.state.auth import AuthState, enter_portal
from portal.state.step_up import METHOD_LABELS


class TwoFactorState(AuthState):
    methods: list[str] = []
    method: str = "totp"
    phone_hint: str = ""
    sms_note: str = ""
    error: str = ""
    expired: bool = False
    checking: bool = False

    @rx.var
    def method_options(self) -> list[list[str]]:
        return [[m, METHOD_LABELS[m]] for m in self.methods]

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.sms_note = ""
        self.checking = False
        if not self._pending_login:
            return rx.redirect("/login", replace=True)
        try:
            challenge = account_pages.sign_in_challenge(self._pending_login)
        except ServiceError as exc:
            self._pending_login, self.expired, self.error = "", True, exc.message
            return None
        self.expired = False
        self.methods, self.phone_hint = challenge.methods, challenge.phone_hint
        if self.method not in self.methods:
            self.method = "totp"
        return None

    @rx.event
    def choose_method(self, method: str) -> None:
        if method in self.methods:
            self.method, self.error = method, ""

    @rx.event
    def send_sms(self) -> None:
        try:
            masked = account_pages.send_sign_in_sms(self._pending_login)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error, self.sms_note = "", f"We texted a code to {masked}."

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.checking, self.error = True, ""
        yield
        try:
            grant = account_pages.complete_sign_in(
                self._pending_login,
                method=self.method,
                code=str(form.get("code", ""))[:32],
                ip_address=self.router.session.client_ip or None,
                user_agent=self.router.headers.user_agent or None,
            )
        except ServiceError as exc:
            self.checking, self.error = False, exc.message
            self.expired = exc.code == "sign_in_expired"
            return
        self._pending_login = ""
        yield enter_portal(grant, self._next())


class SmsOutboxState(rx.State):
    """The demo's /dev/sms: texts the sandbox twin "sent" (never in production)."""

    messages: list[dict[str, str]] = []
    available: bool = True

    @rx.event
    def load(self) -> None:
        texts = security_pages.sandbox_texts()
        self.available = texts is not None
        self.messages = [{"to": t.to, "body": t.body, "at": t.at} for t in texts or []]
