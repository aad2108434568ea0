"""Who is signed in. The browser holds a random token in a cookie; the session row is the truth."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import reflex as rx

from backend.config import get_settings
from backend.db import session_scope
from backend.services import sessions, two_factor
from backend.services.errors import ServiceError

_SETTINGS = get_settings()
# Secure everywhere but plain-http localhost, where browsers would refuse to store it.
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_SECURE_COOKIE = (urlsplit(_SETTINGS.app_url).hostname or "") not in _LOCAL_HOSTS


def _safe_next(target: str | None) -> str:
    """Only same-site paths may follow sign-in (no open redirect to another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


class AuthState(rx.State):
    session_token: str = rx.Cookie(
        "",
        name=sessions.COOKIE_NAME,
        same_site="strict",
        secure=_SECURE_COOKIE,
        max_age=_SETTINGS.session_max_hours * 3600,
    )
    user_email: str = ""
    merchant_name: str = ""
    role: str = ""
    livemode: bool = False
    email_verified: bool = True
    login_error: str = ""
    login_pending: bool = False

    _user_id: str = ""
    _merchant_id: str = ""
    # A correct password of an account with 2FA: the ticket to the second step (never a cookie).
    _pending_login: str = ""

    def _load_context(self) -> sessions.SessionContext | None:
        with session_scope() as db:
            ctx = sessions.resolve(db, self.session_token)
        if ctx is None:
            self._user_id = self._merchant_id = ""
            self.user_email = self.merchant_name = self.role = ""
            return None
        self._user_id, self._merchant_id = ctx.user_id, ctx.merchant_id
        self.user_email, self.merchant_name = ctx.email, ctx.merchant_name
        self.role, self.livemode = ctx.role, ctx.livemode
        self.email_verified = ctx.email_verified
        return ctx

    @rx.event
    def require_session(self):  # type: ignore[no-untyped-def]
        """on_load of every signed-in page: signed-out visitors go to sign-in, then come back."""
        if self._load_context() is None:
            here = self.router.url.path.rstrip("/") or "/dashboard"
            return rx.redirect(f"/login?next={quote(here, safe='')}")
        return None

    @rx.event
    def route_root(self):  # type: ignore[no-untyped-def]
        return rx.redirect("/dashboard" if self._load_context() else "/login", replace=True)

    @rx.event
    def redirect_if_signed_in(self):  # type: ignore[no-untyped-def]
        self.login_error = ""
        self.login_pending = False
        if self._load_context() is not None:
            return rx.redirect(_safe_next(self.router.url.query_parameters.get("next")))
        return None

    @rx.event
    def submit_login(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        self.login_pending, self.login_error = True, ""
        yield
        try:
            with session_scope() as db:
                step = two_factor.begin_login(
                    db,
                    email=email,
                    password=password,
                    ip_address=self.router.session.client_ip or None,
                    user_agent=self.router.headers.user_agent or None,
                )
        except ServiceError as exc:
            self.login_pending = False
            self.login_error = exc.message
            return
        if step.pending_token:  # the second factor first: portal/pages/two_factor.py
            self._pending_login, self.login_pending = step.pending_token, False
            next_path = quote(_safe_next(self.router.url.query_parameters.get("next")), safe="")
            yield rx.redirect(f"/login/two-factor?next={next_path}")
            return
        self.session_token = step.session_token or ""
        self.login_pending = False
        self._load_context()
        yield rx.redirect(_safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    def sign_out(self):  # type: ignore[no-untyped-def]
        with session_scope() as db:
            sessions.sign_out(db, self.session_token)
        self.session_token = ""
        self._load_context()
        return rx.redirect("/login")
