"""The empty dashboard's first API call: a ready `curl` test charge with a revealable test key."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.merchant import quickstart
from portal.state.auth import AuthState


class QuickstartState(AuthState):
    shown: bool = False  # test mode, no test payments yet, and the member manages keys
    command: str = ""  # empty while shown: no test key can be revealed, create one
    key_name: str = ""

    @rx.event
    def load(self) -> None:
        self.shown, self.command, self.key_name = False, "", ""
        ctx = self._load_context()
        if ctx is None:
            return
        try:
            found = quickstart.dashboard_quickstart(ctx)
        except ServiceError:
            return
        if found is not None:
            self.shown, self.command, self.key_name = True, found.command, found.key_name
