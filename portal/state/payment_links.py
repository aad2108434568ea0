"""Payment links in the portal: list, create, edit, activate and deactivate, QR downloads."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services.checkout import link_pages, payment_links
from backend.services.identity import permissions, sessions
from portal.state.auth import AuthState
from portal.state.formatting import major_text

P = permissions.Permission


def _row(link: Any) -> dict[str, str]:  # a PaymentLink
    if link.unit_amount is not None:
        price = format_money(link.unit_amount, link.currency)
        if link.max_quantity > 1:
            price += f" each (up to {link.max_quantity})"
    else:
        low = format_money(link.min_amount or 0, link.currency)
        high = format_money(link.max_amount or 0, link.currency)
        price = f"Customer chooses ({low} to {high})"
    return {
        "id": link.id,
        "name": link.name,
        "price": price,
        "active": "yes" if link.active else "",
        "url": payment_links.link_url(link),
    }


class PaymentLinksState(AuthState):
    links: list[dict[str, str]] = []
    loaded: bool = False
    can_manage: bool = False
    error: str = ""
    notice: str = ""
    # The form: "" to create, or the id of the link being edited.
    editing_id: str = ""
    form_open: bool = False
    form_values: dict[str, str] = {}
    pricing: str = "fixed"

    def _ctx(self) -> sessions.SessionContext | None:
        return self._load_context()

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            found = link_pages.list_links(ctx)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.can_manage = permissions.can(self.role, P.MANAGE_PAYMENT_LINKS)
        self.links = [_row(link) for link in found]
        self.loaded = True
        return None

    @rx.event
    def new_link(self) -> None:
        self.editing_id, self.pricing, self.error, self.notice = "", "fixed", "", ""
        self.form_values = {"currency": "USD", "max_quantity": "1"}
        self.form_open = True

    @rx.event
    def edit_link(self, link_id: str) -> None:
        ctx = self._ctx()
        if ctx is None:
            return
        try:
            link = link_pages.get_link(ctx, link_id)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.editing_id, self.error, self.notice = link.id, "", ""
        self.pricing = "fixed" if link.unit_amount is not None else "custom"
        self.form_values = {
            "name": link.name,
            "description": link.description or "",
            "currency": link.currency,
            "unit_amount": major_text(link.unit_amount, link.currency),
            "min_amount": major_text(link.min_amount, link.currency),
            "max_amount": major_text(link.max_amount, link.currency),
            "max_quantity": str(link.max_quantity),
        }
        self.form_open = True

    @rx.event
    def close_form(self) -> None:
        self.form_open, self.editing_id = False, ""

    @rx.event
    def choose_pricing(self, value: str) -> None:
        self.pricing = "custom" if value == "custom" else "fixed"

    @rx.event
    def save(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            link = link_pages.save_link(ctx, self.editing_id, form, fixed=self.pricing == "fixed")
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice = f"Saved “{link.name}”. Share its link or QR code."
        self.error, self.form_open, self.editing_id = "", False, ""
        return PaymentLinksState.load

    @rx.event
    def set_active(self, link_id: str, active: bool):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            link = link_pages.set_active(ctx, link_id, bool(active))
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice = f"“{link.name}” is now {'active' if link.active else 'inactive'}."
        self.error = ""
        return PaymentLinksState.load

    @rx.event
    def download_qr(self, link_id: str, kind: str):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            data, filename = link_pages.qr_code(ctx, link_id, kind)
        except ServiceError as exc:
            self.error = exc.message
            return None
        return rx.download(data=data, filename=filename)
