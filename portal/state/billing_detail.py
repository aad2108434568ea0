"""What the billing detail pages' states share (one subscription, one invoice): the loaded /
not-found flags, the error and notice, and running an action through its service function
(then reloading, or saying why it was refused, or asking for a fresh second factor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity.step_up import StepUpRequired
from portal.state.auth import AuthState
from portal.state.viewer import Viewer, current_viewer


class BillingDetailState(rx.State, mixin=True):
    loaded: bool = False
    not_found: bool = False
    error: str = ""
    notice: str = ""

    def _object_id(self) -> str:
        """The page's object, from its route's parameter."""
        raise NotImplementedError

    def _fetch(self, viewer: Viewer, object_id: str) -> Any:
        """The service's page of the object (ServiceError: not found for this viewer)."""
        raise NotImplementedError

    def _show(self, found: Any) -> None:
        """Lay out what _fetch returned; None clears the page (not found)."""
        raise NotImplementedError

    def _reset(self) -> None:
        """Close what the page had open (dialogs, forms) when it loads."""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = ""
        self._reset()
        self.loaded = False
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)  # type: ignore[arg-type]
        if viewer is None:
            return AuthState.require_session
        try:
            found = self._fetch(viewer, self._object_id())
        except ServiceError:
            self.not_found = self.loaded = True
            self._show(None)
            return None
        self.not_found = False
        self._show(found)
        self.loaded = True
        return None

    def _act(
        self,
        action: Callable[[Viewer, str, str | None], Any],
        done: str,
        *,
        again: Any = None,
    ):  # type: ignore[no-untyped-def]
        """Run action(viewer, object id, ip) and reload with `done` as the notice; a refusal
        becomes the error. `again` (an EventSpec from step_up_then) runs it once more after a
        fresh second factor, when the service asks for one."""
        viewer = current_viewer(self)  # type: ignore[arg-type]
        if viewer is None:
            return AuthState.require_session
        try:
            action(viewer, self._object_id(), self.router.session.client_ip or None)
        except StepUpRequired as exc:
            if again is not None:
                return again
            self.error, self.notice = exc.message, ""
            return None
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.error, self.notice = "", done
        return self._reload()
