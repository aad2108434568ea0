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
                with session_scope() as db:
                    step_up.require_fresh(db, ctx.session_id)  # inside the service, or here
                    ...act...
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

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.models import User
from backend.services.identity import two_factor
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
        with session_scope(readonly=True) as db:
            user = db.get(User, ctx.user_id)
            methods = two_factor.methods_for(user) if user else []
            phone = user.phone if user and user.phone_verified_at else None
        self.action = action[:120]
        self._resume_name, self._resume_payload = resume_name, dict(resume_payload)
        self.needs_setup = not methods
        self.methods = methods
        self.method = methods[0] if methods else "totp"
        self.phone_hint = f"••• ••• {phone[-4:]}" if phone else ""
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
            with session_scope() as db:
                masked = two_factor.send_sms(db, ctx.user_id, purpose="step_up")
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
            with session_scope() as db:
                two_factor.step_up_with(
                    db,
                    session_id=ctx.session_id,
                    user_id=ctx.user_id,
                    method=self.method,
                    code=str(form.get("code", ""))[:32],
                )
        except ServiceError as exc:
            self.error, self.checking = exc.message, False
            return None
        self.open, self.checking, self.error = False, False, ""
        name, payload = self._resume_name, self._resume_payload
        self._resume_name, self._resume_payload = "", {}
        return Event(name=name, payload=payload) if name else None
