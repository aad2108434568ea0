"""The Statements page: the recent months with activity, their opening and closing balances
per currency, and their PDF and CSV downloads (read by backend.services.reporting)."""

from __future__ import annotations

import reflex as rx
from babel.dates import format_date

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services.reporting import statements_page
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer


class StatementsState(AuthState):
    # Each month: {"key": "2026-11", "name": "November 2026", "note": "Month to date" or "",
    # "pdf": href, "csv": href}; its currencies in `figures[key]`.
    months: list[dict[str, str]] = []
    figures: dict[str, list[dict[str, str]]] = {}
    can_download: bool = False
    loaded: bool = False
    error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            page = statements_page.statements_page(viewer.ctx, viewer.timezone)
        except ServiceError as exc:
            self.months, self.figures, self.error = [], {}, exc.message
            self.loaded = True
            return None
        locale = viewer.locale
        self.months = []
        self.figures = {}
        for summary in page.months:
            key = f"{summary.month:%Y-%m}"
            self.months.append(
                {
                    "key": key,
                    "name": format_date(summary.month, "LLLL y", locale=locale),
                    "note": "" if summary.complete else "Month to date",
                    "pdf": f"/api/portal/statements/{key}.pdf",
                    "csv": f"/api/portal/statements/{key}.csv",
                }
            )
            self.figures[key] = [
                {
                    "currency": c.currency,
                    "opening": format_money(c.opening, c.currency, locale),
                    "closing": format_money(c.closing, c.currency, locale),
                    "change": ("+" if c.closing >= c.opening else "")
                    + format_money(c.closing - c.opening, c.currency, locale)
                    + " in the month",
                    "count": f"{c.transactions:,} transaction{'s' if c.transactions != 1 else ''}",
                }
                for c in summary.currencies
            ]
        self.can_download = page.can_download
        self.error = ""
        self.loaded = True
        return None
