"""One payout's page: its facts, the balance transactions it paid out with their total, and
Cancel (a pending payout, owner) and Simulate a bank return (test mode)."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import NotFound, ServiceError
from backend.services.identity.permissions import Permission
from backend.services.payouts import balance_page
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer


class PayoutDetailState(AuthState):
    payout: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    transactions: list[dict[str, str]] = []
    count: str = ""
    csv: str = ""
    can_export: bool = False
    total: str = ""
    adds_up: bool = False
    note: str = ""
    can_cancel: bool = False
    can_simulate: bool = False
    not_found: bool = False
    loaded: bool = False
    cancel_open: bool = False
    action_error: str = ""
    outcome: str = ""
    working: bool = False
    _payout_id: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        self.outcome = self.action_error = ""
        self._payout_id = str(self.router.page.params.get("payout_id", ""))[:64]
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            detail = balance_page.payout_detail(viewer, self._payout_id)
        except NotFound:
            self.not_found = self.loaded = True
            self.payout, self.transactions = {}, []
            return None
        except ServiceError as exc:
            self.not_found, self.loaded, self.action_error = True, True, exc.message
            return None
        self.not_found = False
        self.payout = detail.payout
        self.lines, self.transactions = detail.lines, detail.transactions
        self.count, self.csv = detail.count, detail.csv
        self.can_export = viewer.can(Permission.EXPORT_DATA)
        self.total, self.adds_up, self.note = detail.total, detail.adds_up, detail.note
        self.can_cancel, self.can_simulate = detail.can_cancel, detail.can_simulate
        self.loaded = True
        return None

    @rx.event
    def set_cancel_open(self, value: bool) -> None:
        self.cancel_open, self.action_error = value, ""

    @rx.event
    def confirm_cancel(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            balance_page.cancel(
                viewer, self._payout_id, ip_address=self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.action_error = exc.message
            return None
        self.cancel_open = False
        self.outcome = "The payout was canceled; its amount is available again."
        return self._reload()

    @rx.event
    def simulate_return(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            yield AuthState.require_session
            return
        self.working = True
        yield
        try:
            balance_page.simulate_return(viewer, self._payout_id)
        except ServiceError as exc:
            self.working, self.action_error = False, exc.message
            return
        self.working, self.action_error = False, ""
        self.outcome = "The bank returned the payout (R01): its amount is available again."
        result = self._reload()
        if result is not None:
            yield result
