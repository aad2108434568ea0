"""Step-up: the dialog that asks for a fresh second-factor code, then runs the action again.

How any page's state uses it (the server decides, the dialog only helps):

    from backend.services.identity.step_up import StepUpRequired
    from portal.state.step_up import step_up_then

    class RefundState(AuthState):
        @rx.event
        def refund(self, payment_id: str, amount: int):
            ctx = self._load_context()
            ...
            try:
                refunds.refund(ctx, payment_id, amount)  # the service checks the step-up window
            except StepUpRequired:
                return step_up_then(RefundState.refund, "Refund this payment",
                                    payment_id=payment_id, amount=amount)

`step_up_then(handler, action, **kwargs)` opens the dialog (mounted once in the portal frame).
Once a code is right the session's step-up window opens (5 minutes) and `handler(**kwargs)` is
sent again, so the person does not repeat what they did. The kwargs must be JSON values and
match the handler's parameters. Accounts without 2FA are told to set it up first, with a link
to the security page: sensitive actions stay closed to them.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import Event, EventHandler, EventSpec
from reflex.utils.format import format_event_handler

from backend.core.errors import ServiceError
from backend.services.identity import security_pages
from portal.state.auth import AuthState

METHOD_LABELS = {"totp": "Authenticator app", "sms": "Text message", "recovery": "Recovery code"}


def step_up_then(handler: EventHandler, action: str, **kwargs: Any) -> EventSpec:
    """Ask for a fresh code, then run handler(**kwargs) again."""
    return StepUpState.ask(action, format_event_handler(handler), kwargs)


def _resumable(name: str) -> bool:
    """Only event handlers of signed-in pages' states may be resumed."""
    state_path, _, handler = name.rpartition(".")
    try:
        cls = rx.State.get_class_substate(state_path)
    except ValueError:
        return False
    return issubclass(cls, AuthState) and handler in cls.event_handlers


class StepUpState(AuthState):
    open: bool = False
    action: str = ""
    needs_setup: bool = False
    methods: list[str] = []
    method: str = "totp"
    phone_hint: str = ""
    sms_note: str = ""
    error: str = ""
    checking: bool = False
    _resume_name: str = ""
    _resume_payload: dict[str, Any] = {}

    @rx.var
    def method_options(self) -> list[list[str]]:
        return [[m, METHOD_LABELS[m]] for m in self.methods]

    @rx.event
    def ask(self, action: str, resume_name: str, resume_payload: dict[str, Any]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if not _resumable(resume_name):
            return None
        choice = security_pages.step_up_choice(ctx)
        methods = choice.methods
        self.action = action[:120]
        self._resume_name, self._resume_payload = resume_name, dict(resume_payload)
        self.needs_setup = not methods
        self.methods = methods
        self.method = methods[0] if methods else "totp"
        self.phone_hint = choice.phone_hint
        self.error = self.sms_note = ""
        self.open = True
        return None

    @rx.event
    def choose_method(self, method: str) -> None:
        if method in self.methods:
            self.method, self.error = method, ""

    @rx.event
    def set_open(self, value: bool) -> None:
        self.open = value
        if not value:
            self._resume_name, self._resume_payload = "", {}

    @rx.event
    def send_sms(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            masked = security_pages.send_step_up_sms(ctx)
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.error, self.sms_note = "", f"We texted a code to {masked}."
        return None

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.checking = True
        try:
            security_pages.prove_step_up(ctx, self.method, str(form.get("code", ""))[:32])
        except ServiceError as exc:
            self.error, self.checking = exc.message, False
            return None
        self.open, self.checking, self.error = False, False, ""
        name, payload = self._resume_name, self._resume_payload
        self._resume_name, self._resume_payload = "", {}
        return Event(name=name, payload=payload) if name else None
