""" "Your sessions": where this person is signed in, and signing out the others."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import security_pages, sessions
from portal.state.auth import AuthState


class SessionsState(AuthState):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    message: str = ""
    error: str = ""

    def _refresh(self, ctx: sessions.SessionContext) -> None:
        self.rows = [
            {
                "id": s.id,
                "device": s.device,
                "ip": s.ip,
                "last_seen": s.last_seen,
                "signed_in": s.signed_in,
                "current": "yes" if s.current else "",
            }
            for s in security_pages.signed_in_sessions(ctx)
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
            security_pages.revoke_session(ctx, session_id)
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
        count = security_pages.sign_out_others(ctx)
        self.error = ""
        self.message = (
            f"Signed out {count} other session{'s' if count != 1 else ''}."
            if count
            else "There were no other sessions to sign out."
        )
        self._refresh(ctx)
        return None
