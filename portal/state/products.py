"""Products: the catalogue's products with their prices in words, a new product with its first
price, another price for a product, archive and restore."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.billing import catalogue_page
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer


class ProductsState(AuthState):
    # One row per product, and one per price (with its product's id): flat lists a page can
    # lay out without nested state.
    products: list[dict[str, str]] = []
    prices: list[dict[str, str]] = []
    loaded: bool = False
    more: bool = False
    can_manage: bool = False
    error: str = ""
    notice: str = ""
    # The open form: "new" (a product with its first price), a product id (another price of
    # it), or "" for none.
    form: str = ""
    billing: str = "month"
    default_currency: str = "USD"

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = ""
        self.form = ""
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            found = catalogue_page.page(viewer)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.products = [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "active": "1" if p.active else "",
                "created": p.created,
                "prices": str(len(p.prices)),
            }
            for p in found.products
        ]
        self.prices = [
            {
                "id": price.id,
                "product_id": price.product_id,
                "label": price.label,
                "nickname": price.nickname,
                "active": "1" if price.active else "",
            }
            for p in found.products
            for price in p.prices
        ]
        self.can_manage, self.more = found.can_manage, found.more
        self.default_currency = viewer.default_currency
        self.loaded = True
        return None

    @rx.event
    def open_form(self, which: str) -> None:
        """Open the new product form ("new") or the new price form of a product (its id)."""
        self.form, self.billing, self.error, self.notice = which, "month", "", ""

    @rx.event
    def close_form(self) -> None:
        self.form = ""

    @rx.event
    def set_billing(self, value: str) -> None:
        choices = {value for value, _ in catalogue_page.BILLING_CHOICES}
        self.billing = value if value in choices else "month"

    @rx.event
    def save(self, form_data: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        values = {**form_data, "billing": self.billing}
        ip = self.router.session.client_ip or None
        try:
            if self.form == "new":
                product = catalogue_page.create_product(viewer, values, ip)
                self.notice = f"Created “{product.name}” with its first price."
            elif self.form:
                price = catalogue_page.add_price(viewer, self.form, values, ip)
                label = catalogue_page.price_view(price, viewer.locale).label
                self.notice = f"Added the price {label}."
            else:
                return None
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.error, self.form = "", ""
        return self._reload()

    @rx.event
    def set_product_active(self, product_id: str, active: bool):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        ip = self.router.session.client_ip or None
        try:
            product = catalogue_page.set_product_active(viewer, product_id, bool(active), ip)
        except ServiceError as exc:
            self.error = exc.message
            return None
        state = "restored" if product.active else "archived: it sells nothing new"
        self.notice, self.error = f"“{product.name}” {state}.", ""
        return self._reload()

    @rx.event
    def set_price_active(self, price_id: str, active: bool):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        ip = self.router.session.client_ip or None
        try:
            price = catalogue_page.set_price_active(viewer, price_id, bool(active), ip)
        except ServiceError as exc:
            self.error = exc.message
            return None
        label = catalogue_page.price_view(price, viewer.locale).label
        state = "restored" if price.active else "archived"
        self.notice, self.error = f"The price {label} is {state}.", ""
        return self._reload()
