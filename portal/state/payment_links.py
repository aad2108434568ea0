"""Payment links in the portal: list, create, edit, activate and deactivate, QR downloads."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.checkout import link_pages
from backend.services.identity import permissions, sessions
from portal.state.auth import AuthState
from portal.state.formatting import major_text

P = permissions.Permission


def _row(row: link_pages.LinkRow) -> dict[str, str]:
    return {
        "id": row.id,
        "name": row.name,
        "price": row.price,
        "active": "yes" if row.active else "",
        "url": row.url,
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
    # fixed | custom | subscription
    pricing: str = "fixed"
    # The recurring prices a subscription link may sell: [{"id", "label"}]; the edit form of
    # a subscription link shows its own price in words (it keeps it).
    price_choices: list[dict[str, str]] = []
    chosen_price: str = ""
    kept_price: str = ""

    def _ctx(self) -> sessions.SessionContext | None:
        return self._load_context()

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            found = link_pages.link_rows(ctx)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.can_manage = permissions.can(self.role, P.MANAGE_PAYMENT_LINKS)
        self.links = [_row(row) for row in found]
        self.loaded = True
        return None

    def _load_prices(self, ctx: sessions.SessionContext) -> None:
        choices = link_pages.subscription_prices(ctx)
        self.price_choices = [{"id": c.id, "label": c.label} for c in choices]
        if self.chosen_price not in {c.id for c in choices}:
            self.chosen_price = choices[0].id if choices else ""

    @rx.event
    def new_link(self) -> None:
        ctx = self._ctx()
        if ctx is None:
            return
        self.editing_id, self.pricing, self.error, self.notice = "", "fixed", "", ""
        self.form_values = {"currency": "USD", "max_quantity": "1"}
        self.kept_price = ""
        try:
            self._load_prices(ctx)
        except ServiceError as exc:
            self.error = exc.message
            return
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
        self.kept_price, self.price_choices = "", []
        if link.price_id is not None:
            self.pricing, self.kept_price = "subscription", link_pages.link_price(ctx, link)
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
        if self.kept_price:  # a subscription link keeps its kind and price
            return
        self.pricing = value if value in link_pages.PRICINGS else "fixed"

    @rx.event
    def choose_price(self, value: str) -> None:
        self.chosen_price = str(value)[:40]

    @rx.event
    def save(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._ctx()
        if ctx is None:
            return AuthState.require_session
        try:
            values = {**form, "price_id": self.chosen_price}
            link = link_pages.save_link(ctx, self.editing_id, values, pricing=self.pricing)
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
