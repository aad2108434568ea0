"""Payments: the searchable, filterable list with keyset pages; one payment with its timeline,
fees, risk, refunds and webhooks, and the capture, void and refund actions.

Every action checks the member's permission on the server, in the service layer
(backend/services/payments/portal_actions.py); the buttons a member cannot use are hidden
too, but only as a courtesy.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import reflex as rx

from backend.services.identity.permissions import Permission
from backend.services.reporting.payment_list_page import payment_list
from portal.state import payment_query
from portal.state.auth import AuthState
from portal.state.formatting import payment_row
from portal.state.keyset_list import SearchableListState
from portal.state.payment_query import (
    ALL,
    ANY_TIME,
    CUSTOM,
    DATE_CHOICES,
    GATEWAY_CHOICES,
    METHOD_CHOICES,
    RISK_CHOICES,
    STATUS_CHOICES,
    PaymentQuery,
)
from portal.state.viewer import Viewer

PAGE_SIZE = 25


class PaymentsState(SearchableListState, AuthState):
    """The list shows what the address asks for (portal/state/payment_query.py): on_load
    reads the selection from it, and every change of a control writes a new address, whose
    load then lists it. So Back, a reload and a shared link all show the same payments."""

    status: str = ALL
    currency: str = ALL
    method: str = ALL
    gateway: str = ALL
    risk: str = ALL
    date_range: str = ANY_TIME
    date_from: str = ""
    date_to: str = ""
    currencies: list[str] = [ALL]
    can_export: bool = False
    export_url: str = ""
    notes: list[str] = []  # parts of the address that were ignored, and why
    range_problem: str = ""  # why the dates cannot be applied; nothing is listed meanwhile
    filtered: bool = False  # anything other than every payment is asked for

    def _selection(self) -> PaymentQuery:
        return PaymentQuery(
            q=self.query.strip(),
            status=self.status,
            currency=self.currency,
            method=self.method,
            gateway=self.gateway,
            risk=self.risk,
            date=self.date_range,
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def _put_on_controls(self, selection: PaymentQuery) -> None:
        self.query = selection.q
        self.status, self.currency = selection.status, selection.currency
        self.method, self.gateway, self.risk = selection.method, selection.gateway, selection.risk
        self.date_range = selection.date
        self.date_from, self.date_to = selection.date_from, selection.date_to
        self.range_problem = selection.range_problem()
        self.filtered = selection.filtered
        if selection.currency not in self.currencies:
            self.currencies = [*self.currencies, selection.currency]

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        selection, self.notes = payment_query.parse(self.router.url.query_parameters)
        self._put_on_controls(selection)
        if self.range_problem:
            self._show_nothing()
            return None
        return self._search(reset=True)

    def _show_nothing(self) -> None:
        self.rows, self.has_more, self._cursor = [], False, None
        self.error, self.export_url = "", ""
        self.loaded = True

    def _go(self, selection: PaymentQuery):  # type: ignore[no-untyped-def]
        """Show the new choice on the controls at once, drop the old choice's rows (a spinner
        until the new ones come), and put the choice in the address, adding a history entry
        so Back returns to the previous one. The page's on_load lists it."""
        in_address, notes = payment_query.parse(self.router.url.query_parameters)
        if selection == in_address and not notes:
            return self.load()  # the same selection again: list it afresh
        self._put_on_controls(selection)
        self.notes = []
        self.rows, self.has_more, self._cursor, self.error = [], False, None, ""
        self.loaded = False
        return rx.redirect(selection.path())

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        status = value if value in STATUS_CHOICES else ALL
        return self._go(replace(self._selection(), status=status))

    @rx.event
    def choose_currency(self, value: str):  # type: ignore[no-untyped-def]
        currency = value if value in self.currencies else ALL
        return self._go(replace(self._selection(), currency=currency))

    @rx.event
    def choose_method(self, value: str):  # type: ignore[no-untyped-def]
        method = value if value in METHOD_CHOICES else ALL
        return self._go(replace(self._selection(), method=method))

    @rx.event
    def choose_gateway(self, value: str):  # type: ignore[no-untyped-def]
        gateway = value if value in GATEWAY_CHOICES else ALL
        return self._go(replace(self._selection(), gateway=gateway))

    @rx.event
    def choose_risk(self, value: str):  # type: ignore[no-untyped-def]
        risk = value if value in RISK_CHOICES else ALL
        return self._go(replace(self._selection(), risk=risk))

    @rx.event
    def choose_date_range(self, value: str):  # type: ignore[no-untyped-def]
        if value not in DATE_CHOICES:
            return None
        selection = replace(self._selection(), date=value)
        if value != CUSTOM:
            selection = replace(selection, date_from="", date_to="")
        return self._go(selection)

    @rx.event
    def set_date_from(self, value: str):  # type: ignore[no-untyped-def]
        day = value[:10] if payment_query.is_day(value[:10]) else ""
        return self._go(replace(self._selection(), date=CUSTOM, date_from=day))

    @rx.event
    def set_date_to(self, value: str):  # type: ignore[no-untyped-def]
        day = value[:10] if payment_query.is_day(value[:10]) else ""
        return self._go(replace(self._selection(), date=CUSTOM, date_to=day))

    @rx.event
    def submit_search(self, _form: dict[str, str]):  # type: ignore[no-untyped-def]
        return self._go(self._selection())

    @rx.event
    def clear_filters(self):  # type: ignore[no-untyped-def]
        return self._go(PaymentQuery())

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        params = self._selection().export_params(viewer.timezone)
        found = payment_list(
            viewer.ctx,
            params,
            viewer.timezone,
            cursor=cursor,
            limit=PAGE_SIZE,
            with_currencies=reset,
        )
        if found.currencies is not None:
            chosen = [] if self.currency in (ALL, *found.currencies) else [self.currency]
            self.currencies = [ALL, *found.currencies, *chosen]
        self.can_export = viewer.can(Permission.EXPORT_DATA)
        self.export_url = "/api/portal/exports/payments.csv?" + urlencode(params)
        return [payment_row(p, viewer.locale, viewer.timezone) for p in found.payments], (
            found.next_cursor
        )
