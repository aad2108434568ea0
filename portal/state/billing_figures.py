"""The dashboard's billing card: MRR, active subscriptions, churn and failed-renewal recovery,
in words and money, from backend.services.billing.metrics (the state only calls it)."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.billing import metrics
from portal.state.auth import AuthState
from portal.state.formatting import strings
from portal.state.viewer import current_viewer


class BillingFiguresState(AuthState):
    figures: list[dict[str, str]] = []
    shown: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            card = metrics.dashboard_figures(viewer)
        except ServiceError:
            self.figures, self.shown = [], False
            return None
        self.figures = [strings(f) for f in card.figures]
        self.shown = card.shown
        return None
