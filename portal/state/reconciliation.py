"""Reconciliation: the open and resolved exceptions, a run on demand, resolving with a note."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.reconciliation import page as reconciliation_page
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer

EXPORT_HREF = "/api/portal/exports/reconciliation.csv"


class ReconciliationState(AuthState):
    open_rows: list[dict[str, str]] = []
    resolved_rows: list[dict[str, str]] = []
    can_reconcile: bool = False
    can_export: bool = False
    running: bool = False
    loaded: bool = False
    error: str = ""
    notice: str = ""
    # The exception being resolved, and its note.
    resolving: str = ""
    note: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = ""
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            found = reconciliation_page.page(viewer.ctx, locale=viewer.locale, tz=viewer.timezone)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.open_rows = [_row(v) for v in found.open]
        self.resolved_rows = [_row(v) for v in found.resolved]
        self.can_reconcile, self.can_export = found.can_reconcile, found.can_export
        self.loaded = True
        return None

    @rx.event(background=True)
    async def run_now(self):  # type: ignore[no-untyped-def]
        """Reaching Stripe and the payout rail takes a moment: the page stays live meanwhile."""
        async with self:
            viewer = current_viewer(self)
            if viewer is None:
                return AuthState.require_session
            if self.running:
                return None
            self.running, self.error, self.notice = True, "", ""
            ip = self.router.session.client_ip
        try:
            summary = await asyncio.to_thread(
                reconciliation_page.run_now, viewer.ctx, ip_address=ip
            )
        except ServiceError as exc:
            async with self:
                self.running, self.error = False, exc.message
            return None
        async with self:
            self.running = False
            self.notice = reconciliation_page.summary_text(summary)
            self.error = " ".join(summary.errors)
            self._reload()
        return None

    @rx.event
    def start_resolving(self, exception_id: str) -> None:
        self.resolving, self.note, self.error = str(exception_id)[:40], "", ""

    @rx.event
    def cancel_resolving(self) -> None:
        self.resolving, self.note = "", ""

    @rx.event
    def set_note(self, value: str) -> None:
        self.note = value[:1001]

    @rx.event
    def resolve(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            reconciliation_page.resolve(
                viewer.ctx, self.resolving, self.note, ip_address=self.router.session.client_ip
            )
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.resolving, self.note, self.error = "", "", ""
        self.notice = "Exception resolved. It stays listed under Resolved with your note."
        return self._reload()


def _row(view: reconciliation_page.ExceptionView) -> dict[str, str]:
    return {key: str(value) for key, value in asdict(view).items()}
