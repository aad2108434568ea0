""" "Your sessions": where this person is signed in, and signing out the others."""

from __future__ import annotations

import reflex as rx
from ua_parser import parse

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.models import Merchant, UserSession
from backend.services.identity import sessions
from backend.services.reporting import audit_log
from portal.state.auth import AuthState


def describe_device(user_agent: str | None) -> str:
    """ "Chrome 140 on Linux" from a User-Agent header (ua-parser's maintained rules)."""
    if not user_agent:
        return "Unknown device"
    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else "Unknown browser"
    if result.user_agent and result.user_agent.major:
        browser += f" {result.user_agent.major}"
    system = result.os.family if result.os else ""
    return f"{browser} on {system}" if system and system != "Other" else browser


class SessionsState(AuthState):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    message: str = ""
    error: str = ""

    def _refresh(self, ctx: sessions.SessionContext) -> None:
        with session_scope(readonly=True) as db:
            merchant = db.get(Merchant, ctx.merchant_id)
            tz = merchant.timezone if merchant else "UTC"
            found: list[UserSession] = sessions.active_sessions(db, ctx.user_id)
        self.rows = [
            {
                "id": s.id,
                "device": describe_device(s.user_agent),
                "ip": s.ip_address or "Unknown address",
                "last_seen": audit_log.format_time(s.last_seen_at, tz)[:-3],
                "signed_in": audit_log.format_time(s.created_at, tz)[:-3],
                "current": "yes" if s.id == ctx.session_id else "",
            }
            for s in sorted(found, key=lambda s: s.id != ctx.session_id)
        ]
        self.loaded = True

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.message = self.error = ""
        self._refresh(ctx)
        return None

    @rx.event
    def revoke(self, session_id: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if session_id == ctx.session_id:
            return AuthState.sign_out
        try:
            with session_scope() as db:
                sessions.revoke_session(db, ctx, session_id)
        except ServiceError as exc:
            self.error, self.message = exc.message, ""
        else:
            self.error, self.message = "", "That session has been signed out."
        self._refresh(ctx)
        return None

    @rx.event
    def sign_out_others(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        with session_scope() as db:
            count = sessions.sign_out_others(db, ctx)
        self.error = ""
        self.message = (
            f"Signed out {count} other session{'s' if count != 1 else ''}."
            if count
            else "There were no other sessions to sign out."
        )
        self._refresh(ctx)
        return None
