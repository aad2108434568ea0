"""Accepting a team invitation: a new account (choose a password) or an existing one."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.identity import account_pages
from portal.state.auth import AuthState, enter_portal


class AcceptInviteState(AuthState):
    status: str = "checking"  # checking, ready, invalid
    invalid_message: str = ""
    invite: dict[str, str] = {}
    account_exists: bool = False
    error: str = ""
    pending: bool = False

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", ""))

    @rx.event
    def check(self) -> None:
        self.error, self.pending = "", False
        try:
            view = account_pages.look_up_invitation(self._token())
        except ServiceError as exc:
            self.status, self.invalid_message = "invalid", exc.message
            return
        self.invite = {
            "merchant": view.merchant_name,
            "email": view.email,
            "role": labels.role(view.role),
            "by": view.invited_by,
        }
        self.account_exists = view.account_exists
        self.status = "ready"

    @rx.event
    def accept(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.pending, self.error = True, ""
        yield
        ip = self.router.session.client_ip or None
        agent = self.router.headers.user_agent or None
        password = form.get("password", "")
        if not self.account_exists and password != form.get("confirm", ""):
            self.pending, self.error = False, "The two passwords are not the same"
            return
        try:
            grant = account_pages.accept_invitation(
                self._token(),
                account_exists=self.account_exists,
                password=password,
                full_name=form.get("name", ""),
                ip_address=ip,
                user_agent=agent,
            )
        except ServiceError as exc:
            self.pending, self.error = False, exc.message
            return
        self.pending = False
        if not grant:
            yield rx.toast.success("You joined the team. Sign in with your two-factor code.")
            yield rx.redirect("/login")
            return
        yield enter_portal(grant, "/dashboard")
