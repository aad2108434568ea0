"""Settings, Security: the authenticator app, recovery codes and the phone for SMS codes."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import security_pages, sessions
from backend.services.identity.step_up import StepUpRequired
from portal.state.auth import AuthState
from portal.state.step_up import step_up_then


class SecurityState(AuthState):
    loaded: bool = False
    two_factor_on: bool = False
    codes_left: int = 0
    phone: str = ""  # masked, verified
    # Enrolment in progress: the QR code and the key as text.
    enrolling: bool = False
    qr: str = ""
    secret: str = ""
    # Recovery codes, shown once right after they are made.
    new_codes: list[str] = []
    phone_code_sent: bool = False
    phone_note: str = ""
    error: str = ""
    notice: str = ""

    def _refresh(self, ctx: sessions.SessionContext) -> None:
        overview = security_pages.security_overview(ctx)
        if overview is None:
            return
        self.two_factor_on = overview.two_factor_on
        self.codes_left = overview.recovery_codes_left
        self.phone = overview.phone
        self.loaded = True

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.error = self.notice = ""
        self.new_codes, self.enrolling, self.qr, self.secret = [], False, "", ""
        self._refresh(ctx)
        return None

    @rx.event
    def start_enrolment(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            enrolment = security_pages.begin_enrolment(ctx)
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.enrolling, self.qr, self.secret, self.error = True, enrolment.qr_data_uri, "", ""
        self.secret = " ".join(enrolment.secret[i : i + 4] for i in range(0, 32, 4))
        return None

    @rx.event
    def cancel_enrolment(self) -> None:
        self.enrolling, self.qr, self.secret, self.error = False, "", "", ""

    @rx.event
    def confirm_enrolment(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            codes = security_pages.confirm_enrolment(ctx, str(form.get("code", ""))[:32])
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.enrolling, self.qr, self.secret, self.error = False, "", "", ""
        self.new_codes = codes
        self.notice = "Two-factor authentication is on."
        self._refresh(ctx)
        return None

    @rx.event
    def hide_codes(self) -> None:
        self.new_codes = []

    @rx.event
    def regenerate_codes(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            codes = security_pages.regenerate_recovery_codes(ctx)
        except StepUpRequired:
            return step_up_then(SecurityState.regenerate_codes, "Make new recovery codes")
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.new_codes, self.error, self.notice = (
            codes,
            "",
            "Your old recovery codes stopped working.",
        )
        self._refresh(ctx)
        return None

    @rx.event
    def disable(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            security_pages.disable_two_factor(ctx)
        except StepUpRequired:
            return step_up_then(SecurityState.disable, "Turn off two-factor authentication")
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.new_codes, self.error = [], ""
        self.notice = "Two-factor authentication is off."
        self._refresh(ctx)
        return None

    @rx.event
    def send_phone_code(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        number = str(form.get("phone", ""))[:40]
        try:
            # a new factor on a protected account takes a fresh code first
            masked = security_pages.start_phone_enrolment(ctx, number)
        except StepUpRequired:
            return step_up_then(
                SecurityState.send_phone_code, "Add a phone", form={"phone": number}
            )
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.phone_code_sent, self.error = True, ""
        self.phone_note = f"We texted a code to {masked}. It is good for 10 minutes."
        return None

    @rx.event
    def confirm_phone(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            security_pages.confirm_phone(ctx, str(form.get("code", ""))[:32])
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.phone_code_sent, self.phone_note, self.error = False, "", ""
        self.notice = "Your phone is verified: text messages can now confirm it is you."
        self._refresh(ctx)
        return None

    @rx.event
    def cancel_phone(self) -> None:
        self.phone_code_sent, self.phone_note, self.error = False, "", ""

    @rx.event
    def remove_phone(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        security_pages.remove_phone(ctx)
        self.notice = "Your phone number was removed."
        self._refresh(ctx)
        return None
