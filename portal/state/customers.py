"""Customers: the list with each one's payments and lifetime value, and one customer."""

from __future__ import annotations

import reflex as rx

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services.payments import customers, portal_actions
from portal.state.auth import AuthState
from portal.state.formatting import card_label, payment_row, when
from portal.state.keyset_list import SearchableListState
from portal.state.viewer import Viewer, current_viewer

PAGE_SIZE = 25


def _values(values: dict[str, int], locale: str) -> str:
    return " · ".join(format_money(v, c, locale) for c, v in values.items()) or "—"


def _summary_row(s: customers.CustomerSummary, viewer: Viewer) -> dict[str, str]:
    c = s.customer
    return {
        "id": c.id,
        "name": c.name or c.email or c.id,
        "email": c.email or "—",
        "payments": str(s.payments),
        "value": _values(s.lifetime_value, viewer.locale),
        "last": when(s.last_payment_at, viewer.timezone, viewer.locale)
        if s.last_payment_at
        else "No payments yet",
    }


class CustomersState(SearchableListState, AuthState):
    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        page = portal_actions.customer_list(
            viewer.ctx, query=self.query, cursor=cursor, limit=PAGE_SIZE
        )
        return [_summary_row(s, viewer) for s in page.customers], page.next_cursor


class CustomerDetailState(AuthState):
    customer: dict[str, str] = {}
    values: list[str] = []
    methods: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    more_payments: bool = False
    not_found: bool = False
    loaded: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        customer_id = str(self.router.page.params.get("customer_id", ""))[:64]
        try:
            found = portal_actions.customer_page(viewer.ctx, customer_id)
        except ServiceError:
            self.not_found = self.loaded = True
            self.customer, self.values, self.methods, self.payments = {}, [], [], []
            return None
        detail = found.detail
        self.not_found = False
        self.customer = {
            **_summary_row(detail.summary, viewer),
            "country": detail.summary.customer.country or "—",
            "since": when(detail.summary.customer.created_at, viewer.timezone, viewer.locale),
        }
        self.values = [
            format_money(v, c, viewer.locale) for c, v in detail.summary.lifetime_value.items()
        ]
        self.methods = [
            {
                "card": card_label(m.brand, m.last4),
                "expiry": f"{m.exp_month:02d}/{m.exp_year}" if m.exp_month else "—",
                "used": f"{m.payments} payment{'s' if m.payments != 1 else ''}, last "
                + when(m.last_used_at, viewer.timezone, viewer.locale),
            }
            for m in detail.methods
        ]
        self.payments = [payment_row(p, viewer.locale, viewer.timezone) for p in found.payments]
        self.more_payments = found.more_payments
        self.loaded = True
        return None
