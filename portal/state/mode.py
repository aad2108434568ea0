"""The test/live switch in the header: kept on the server-side session, so it survives reloads
and every page's loader reads the same mode."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import account_pages, email_verification
from portal.state.auth import AuthState


class ModeState(AuthState):
    @rx.event
    def switch_mode(self, live: bool):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            account_pages.set_livemode(ctx.session_id, bool(live))
        except email_verification.EmailNotVerified as exc:
            return rx.toast.error(exc.message)
        except ServiceError:
            return AuthState.require_session
        self.livemode = bool(live)
        # Reload so that every state on the page loads its data again in the new mode.
        return rx.call_script("window.location.reload()")
