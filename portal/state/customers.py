"""Customers: the list with each one's payments and lifetime value, a new customer; one
customer with its saved cards, edited, deleted."""

from __future__ import annotations

import reflex as rx

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services.billing import subscription_pages
from backend.services.customers import figures, pages, records
from portal.state.auth import AuthState
from portal.state.formatting import card_label, payment_row, strings, when
from portal.state.keyset_list import SearchableListState
from portal.state.viewer import Viewer, current_viewer

PAGE_SIZE = 25
FORM_FIELDS = ("email", "name", "phone", "line1", "line2", "city", "state", "postal_code")


def _values(values: dict[str, int], locale: str) -> str:
    return " · ".join(format_money(v, c, locale) for c, v in values.items()) or "—"


def _summary_row(s: figures.CustomerSummary, viewer: Viewer) -> dict[str, str]:
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


def _form(values: dict[str, str]) -> pages.CustomerForm:
    """The customer form's fields as the service takes them (missing fields are blank)."""
    text = {name: str(values.get(name) or "")[:400] for name in (*FORM_FIELDS, "country")}
    return pages.CustomerForm(**text)


def _address_line(c: dict[str, str]) -> str:
    parts = [c.get(k, "") for k in ("line1", "line2", "city", "state", "postal_code", "country")]
    return ", ".join(p for p in parts if p) or "—"


class CustomersState(SearchableListState, AuthState):
    form_open: bool = False
    form_error: str = ""

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        page = pages.customer_list(viewer.ctx, query=self.query, cursor=cursor, limit=PAGE_SIZE)
        return [_summary_row(s, viewer) for s in page.customers], page.next_cursor

    @rx.event
    def open_form(self) -> None:
        self.form_open, self.form_error = True, ""

    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open = bool(value)

    @rx.event
    def create(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            customer = pages.create_customer(
                viewer.ctx, _form(form), ip_address=self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.form_error = exc.message
            return None
        self.form_open, self.form_error = False, ""
        return rx.redirect(f"/customers/{customer.id}")


class CustomerDetailState(AuthState):
    customer: dict[str, str] = {}
    values: list[str] = []
    methods: list[dict[str, str]] = []
    saved: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    more_payments: bool = False
    subscriptions: list[dict[str, str]] = []
    more_subscriptions: bool = False
    can_manage: bool = False
    not_found: bool = False
    loaded: bool = False
    error: str = ""
    notice: str = ""
    edit_open: bool = False
    edit_error: str = ""
    delete_open: bool = False
    remove_card_id: str = ""

    def _customer_id(self) -> str:
        return str(self.router.page.params.get("customer_id", ""))[:64]

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            found = pages.customer_page(viewer.ctx, self._customer_id())
        except ServiceError:
            self.not_found = self.loaded = True
            self.customer, self.values, self.methods, self.payments = {}, [], [], []
            self.saved, self.subscriptions = [], []
            return None
        detail = found.detail
        customer = detail.summary.customer
        self.not_found = False
        self.can_manage = found.can_manage
        self.customer = {
            **_summary_row(detail.summary, viewer),
            **records.customer_fields(customer),
            "country_shown": customer.country or "—",
            "phone_shown": customer.phone or "—",
            "since": when(customer.created_at, viewer.timezone, viewer.locale),
        }
        self.customer["address"] = _address_line(self.customer)
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
            for m in detail.cards_used
        ]
        self.saved = [
            {
                "id": m.id,
                "card": card_label(m.brand, m.last4),
                "expiry": f"{m.exp_month:02d}/{m.exp_year}" if m.exp_month else "—",
                "default": "yes" if m.id == customer.default_payment_method_id else "",
                "note": "Your customer confirms each charge with their bank"
                if m.authentication_required
                else "",
                "saved": "Saved " + when(m.created_at, viewer.timezone, viewer.locale),
            }
            for m in detail.saved_methods
        ]
        self.payments = [payment_row(p, viewer.locale, viewer.timezone) for p in found.payments]
        self.more_payments = found.more_payments
        subs = subscription_pages.customer_subscriptions(viewer, customer.id)
        self.subscriptions = [strings(r) for r in subs.rows]
        self.more_subscriptions = subs.next_cursor is not None
        self.loaded = True
        return None

    def _act(self, action, done: str):  # type: ignore[no-untyped-def]
        """Run one change through its service function; reload, or say why it was refused."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            action(viewer.ctx, self.router.session.client_ip or None)
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.error, self.notice = "", done
        return CustomerDetailState.load

    @rx.event
    def open_edit(self) -> None:
        self.edit_open, self.edit_error = True, ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = bool(value)

    @rx.event
    def save(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            pages.update_customer(
                viewer.ctx,
                self._customer_id(),
                _form(form),
                ip_address=self.router.session.client_ip or None,
            )
        except ServiceError as exc:
            self.edit_error = exc.message
            return None
        self.edit_open, self.edit_error = False, ""
        self.error, self.notice = "", "Customer saved."
        return CustomerDetailState.load

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = bool(value)

    @rx.event
    def delete(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.delete_open = False
        try:
            pages.delete_customer(
                viewer.ctx, self._customer_id(), ip_address=self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.error = exc.message
            return None
        return rx.redirect("/customers")

    @rx.event
    def ask_remove(self, payment_method_id: str) -> None:
        self.remove_card_id = payment_method_id[:64]

    @rx.event
    def close_remove(self, value: bool) -> None:
        if not value:
            self.remove_card_id = ""

    @rx.event
    def remove_card(self):  # type: ignore[no-untyped-def]
        card, self.remove_card_id = self.remove_card_id, ""
        customer_id = self._customer_id()
        return self._act(
            lambda ctx, ip: pages.remove_card(ctx, customer_id, card, ip_address=ip),
            "The card was removed: it can no longer be charged.",
        )

    @rx.event
    def make_default(self, payment_method_id: str):  # type: ignore[no-untyped-def]
        customer_id = self._customer_id()
        return self._act(
            lambda ctx, ip: pages.make_default(
                ctx, customer_id, payment_method_id[:64], ip_address=ip
            ),
            "Default card changed.",
        )
