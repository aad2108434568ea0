"""The Balance page: the balance per currency, the next payout, "Pay out" (owner, step-up in
live mode), the payout schedule, the payouts and the balance transactions with filters and
keyset pages (read and changed through backend.services.payouts.balance_page)."""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import step_up
from backend.services.payouts import balance_page
from portal.state.auth import AuthState
from portal.state.keyset_list import KeysetListState
from portal.state.step_up import step_up_then
from portal.state.viewer import Viewer, current_viewer

ALL = "all"
PAGE_SIZE = 25
INTERVALS = [["daily", "Daily"], ["weekly", "Weekly"], ["monthly", "Monthly"], ["manual", "Manual"]]
WEEKDAYS = [[str(i), day] for i, day in enumerate(balance_page.WEEKDAYS)]


def _card(c: balance_page.CurrencyBalance) -> dict[str, str]:
    return {
        "currency": c.currency,
        "available": c.available,
        "pending": c.pending,
        "in_transit": c.in_transit,
        "available_major": c.available_major,
        "next_payout": c.next_payout,
        "next_note": c.next_note,
        "needs_bank": "1" if c.needs_bank else "",
        "schedule": c.schedule,
        "interval": c.interval,
        "weekday": str(c.weekly_anchor),
        "day": str(c.monthly_anchor),
        "minimum": c.minimum,
        "minimum_words": c.minimum_words,
    }


class BalanceState(KeysetListState, AuthState):
    """`rows` are the balance transactions (the keyset list); the payouts page on their own
    cursor beside them."""

    cards: list[dict[str, str]] = []
    bank: str = ""
    can_pay_out: bool = False
    can_export: bool = False
    testmode: bool = False
    page_error: str = ""

    # the transactions' filters
    type_filter: str = ALL
    currency_filter: str = ALL
    type_choices: list[list[str]] = [[ALL, "All types"]]
    currency_choices: list[str] = [ALL]
    export_url: str = ""

    payouts: list[dict[str, str]] = []
    payouts_more: bool = False
    _payouts_cursor: str | None = None

    # "Pay out": the form, then the confirm step
    payout_open: bool = False
    payout_currency: str = ""
    payout_amount: str = ""
    payout_confirming: bool = False
    payout_summary: str = ""
    payout_error: str = ""
    payout_pending: bool = False
    outcome: str = ""
    _review_currency: str = ""
    _review_amount: int = 0  # 0: everything available

    # the schedule's form
    schedule_open: bool = False
    schedule_currency: str = ""
    schedule_interval: str = "daily"
    schedule_weekday: str = "0"
    schedule_day: str = "1"
    schedule_minimum: str = ""
    schedule_error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.outcome = ""
        self._show_page(viewer)
        self._load_payouts(viewer, reset=True)
        return self._search(reset=True)

    def _show_page(self, viewer: Viewer) -> None:
        try:
            page = balance_page.balance_page(viewer)
        except ServiceError as exc:
            self.cards, self.page_error = [], exc.message
            return
        self.page_error = ""
        self.cards = [_card(c) for c in page.currencies]
        self.bank = page.bank
        self.can_pay_out, self.can_export = page.can_pay_out, page.can_export
        self.testmode = page.testmode
        self.type_choices = [[ALL, "All types"], *page.type_choices]
        self.currency_choices = [ALL, *(c.currency for c in page.currencies)]

    def _filters(self) -> balance_page.TransactionFilters:
        return balance_page.TransactionFilters.parse(
            "" if self.type_filter == ALL else self.type_filter,
            "" if self.currency_filter == ALL else self.currency_filter,
        )

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        filters = self._filters()
        params = urlencode(filters.params())
        self.export_url = "/api/portal/exports/balance_transactions.csv" + (
            "?" + params if params else ""
        )
        return balance_page.transactions_page(viewer, filters, cursor=cursor, limit=PAGE_SIZE)

    def _load_payouts(self, viewer: Viewer, *, reset: bool) -> None:
        try:
            rows, cursor = balance_page.payouts_page(
                viewer, cursor=None if reset else self._payouts_cursor
            )
        except ServiceError as exc:
            self.page_error = exc.message
            return
        self.payouts = rows if reset else [*self.payouts, *rows]
        self._payouts_cursor, self.payouts_more = cursor, cursor is not None

    @rx.event
    def more_payouts(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self._load_payouts(viewer, reset=False)
        return None

    @rx.event
    def choose_type(self, value: str):  # type: ignore[no-untyped-def]
        codes = [code for code, _ in self.type_choices]
        self.type_filter = value if value in codes else ALL
        return self._search(reset=True)

    @rx.event
    def choose_currency(self, value: str):  # type: ignore[no-untyped-def]
        self.currency_filter = value if value in self.currency_choices else ALL
        return self._search(reset=True)

    def _refresh(self, viewer: Viewer):  # type: ignore[no-untyped-def]
        self._show_page(viewer)
        self._load_payouts(viewer, reset=True)
        return self._search(reset=True)

    # -- pay out ---------------------------------------------------------------------------

    @rx.event
    def open_payout(self, currency: str) -> None:
        self.payout_open = True
        self.payout_currency = currency if currency in self.currency_choices else ""
        if not self.payout_currency and len(self.currency_choices) > 1:
            self.payout_currency = self.currency_choices[1]
        self.payout_amount = ""
        self.payout_confirming = self.payout_pending = False
        self.payout_error = self.payout_summary = ""

    @rx.event
    def set_payout_open(self, value: bool) -> None:
        self.payout_open = value
        if not value:
            self.payout_confirming = False

    @rx.event
    def set_payout_currency(self, value: str) -> None:
        if value in self.currency_choices and value != ALL:
            self.payout_currency = value

    @rx.event
    def set_payout_amount(self, value: str) -> None:
        self.payout_amount = value[:40]

    @rx.event
    def back_to_payout_form(self) -> None:
        self.payout_confirming = False

    @rx.event
    def review_payout(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        """First step: the amount as typed (empty = everything available), checked; nothing
        moves until confirm_payout."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.payout_amount = str(form.get("amount", self.payout_amount))[:40]
        try:
            review = balance_page.review_pay_out(viewer, self.payout_currency, self.payout_amount)
        except ServiceError as exc:
            self.payout_error = exc.message
            return None
        self._review_currency = review.currency
        self._review_amount = review.amount or 0
        self.payout_summary = review.summary
        self.payout_error = ""
        self.payout_confirming = True
        return None

    @rx.event
    def confirm_payout(self):  # type: ignore[no-untyped-def]
        """Second step: book and send the reviewed payout. After StepUpRequired (live mode)
        the step-up dialog proves a fresh code and sends this again."""
        viewer = current_viewer(self)
        if viewer is None:
            yield AuthState.require_session
            return
        if not self.payout_confirming or not self._review_currency:
            self.payout_error = "Review the payout first."
            return
        self.payout_pending = True
        yield
        try:
            payout = balance_page.pay_out(
                viewer,
                self._review_currency,
                self._review_amount or None,
                ip_address=self.router.session.client_ip or None,
            )
        except step_up.StepUpRequired as exc:
            self.payout_pending = False
            self.payout_error = exc.message
            yield step_up_then(BalanceState.confirm_payout, "Pay out your balance")
            return
        except ServiceError as exc:
            self.payout_pending = False
            self.payout_error = exc.message
            return
        self.payout_pending = self.payout_open = self.payout_confirming = False
        self._review_currency, self._review_amount = "", 0
        row = balance_page.payout_row(payout, viewer)
        self.outcome = f"Payout of {row['amount']} made: {row['status_label'].lower()}."
        yield self._refresh(viewer)

    # -- the schedule ----------------------------------------------------------------------

    def _put_schedule(self, currency: str) -> None:
        card = next((c for c in self.cards if c["currency"] == currency), None)
        if card is None:
            return
        self.schedule_currency = currency
        self.schedule_interval = card["interval"]
        self.schedule_weekday, self.schedule_day = card["weekday"], card["day"]
        self.schedule_minimum = card["minimum"]

    @rx.event
    def open_schedule(self, currency: str) -> None:
        self._put_schedule(currency)
        self.schedule_error = ""
        self.schedule_open = bool(self.schedule_currency)

    @rx.event
    def set_schedule_open(self, value: bool) -> None:
        self.schedule_open = value

    @rx.event
    def set_schedule_interval(self, value: str) -> None:
        if value in {code for code, _ in INTERVALS}:
            self.schedule_interval = value

    @rx.event
    def set_schedule_weekday(self, value: str) -> None:
        if value in {code for code, _ in WEEKDAYS}:
            self.schedule_weekday = value

    @rx.event
    def set_schedule_day(self, value: str) -> None:
        self.schedule_day = value[:2]

    @rx.event
    def set_schedule_minimum(self, value: str) -> None:
        self.schedule_minimum = value[:40]

    @rx.event
    def save_schedule(self, _form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            balance_page.set_schedule(
                viewer,
                self.schedule_currency,
                interval=self.schedule_interval,
                weekday=self.schedule_weekday,
                day_of_month=self.schedule_day,
                minimum=self.schedule_minimum,
                ip_address=self.router.session.client_ip or None,
            )
        except ServiceError as exc:
            self.schedule_error = exc.message
            return None
        self.schedule_open = False
        self.outcome = f"The {self.schedule_currency} payout schedule is saved."
        self._show_page(viewer)
        return None
