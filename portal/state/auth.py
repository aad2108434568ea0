"""Who is signed in. The browser holds a random token in an HttpOnly cookie that only
POST /api/session sets (backend/api/routes/session_cookie.py); the state reads it from the
websocket's handshake headers, and the session row is the truth."""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages, devices, sessions

# Post the fields as a real form, so the answer's Set-Cookie lands and the next page loads
# afresh: its new websocket handshake carries the cookie.
_POST_FORM = """(function (action, fields) {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
})(%s, %s)"""


def post_form(action: str, fields: dict[str, str]) -> rx.event.EventSpec:
    return rx.call_script(_POST_FORM % (json.dumps(action), json.dumps(fields)))


def enter_portal(grant: str, next_path: str | None) -> rx.event.EventSpec:
    """Trade a sign-in's one-time grant for the HttpOnly cookie, then go to next_path."""
    return post_form("/api/session", {"grant": grant, "next": sessions.safe_next(next_path)})


class AuthState(rx.State):
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

    def _cookie(self, name: str) -> str | None:
        """A cookie of the page's websocket handshake (server side only: HttpOnly cookies)."""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.router.headers.cookie or "")
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None

    def _load_context(self) -> sessions.SessionContext | None:
        ctx = account_pages.resolve(self._cookie(sessions.COOKIE_NAME))
        if ctx is None:
            self._user_id = self._merchant_id = ""
            self.user_email = self.merchant_name = self.role = ""
            return None
        self._user_id, self._merchant_id = ctx.user_id, ctx.merchant_id
        self.user_email, self.merchant_name = ctx.email, ctx.merchant_name
        self.role, self.livemode = ctx.role, ctx.livemode
        self.email_verified = ctx.email_verified
        return ctx

    def _next(self) -> str:
        return sessions.safe_next(self.router.url.query_parameters.get("next"))

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
            return rx.redirect(self._next())
        return None

    @rx.event
    def submit_login(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        self.login_pending, self.login_error = True, ""
        yield
        try:
            step = account_pages.begin_sign_in(
                email=email,
                password=password,
                ip_address=self.router.session.client_ip or None,
                user_agent=self.router.headers.user_agent or None,
                device=self._cookie(devices.COOKIE_NAME),
            )
        except ServiceError as exc:
            self.login_pending = False
            self.login_error = exc.message
            return
        if step.pending_token:  # the second factor first: portal/pages/two_factor.py
            self._pending_login, self.login_pending = step.pending_token, False
            yield rx.redirect(f"/login/two-factor?next={quote(self._next(), safe='')}")
            return
        yield enter_portal(step.grant, self._next())

    @rx.event
    def sign_out(self):  # type: ignore[no-untyped-def]
        """Revoke the session here too (the form below may never arrive), then let the route
        clear the cookie."""
        account_pages.sign_out(self._cookie(sessions.COOKIE_NAME))
        self._load_context()
        return post_form("/api/session/sign-out", {})
