"""Payment links in the portal: list, create, edit, activate and deactivate, QR downloads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import reflex as rx

from backend.core.currency import exponent, format_money
from backend.core.db import session_scope
from backend.core.errors import ServiceError, ValidationFailed
from backend.models import PaymentLink
from backend.services.checkout import payment_links
from backend.services.context import Scope
from backend.services.identity import permissions
from portal.state.auth import AuthState
from portal.state.formatting import major_text

P = permissions.Permission


def _minor(text: str, currency: str, param: str) -> int | None:
    """A typed amount in major units (12.50) as minor units; None when left empty."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned).scaleb(exponent(currency))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter the amount as a number, such as 12.50", param=param) from None
    if value != value.to_integral_value():
        raise ValidationFailed("That amount has too many decimal places", param=param)
    return int(value)


def _row(link: PaymentLink) -> dict[str, str]:
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

    def _scope(self) -> Scope | None:
        ctx = self._load_context()
        return Scope(ctx.merchant_id, ctx.livemode) if ctx else None

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        scope = self._scope()
        if scope is None:
            return AuthState.require_session
        try:
            permissions.require(self.role, P.VIEW_DATA)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.can_manage = permissions.can(self.role, P.MANAGE_PAYMENT_LINKS)
        with session_scope(readonly=True) as db:
            self.links = [_row(link) for link in payment_links.list_links(db, scope)]
        self.loaded = True
        return None

    @rx.event
    def new_link(self) -> None:
        self.editing_id, self.pricing, self.error, self.notice = "", "fixed", "", ""
        self.form_values = {"currency": "USD", "max_quantity": "1"}
        self.form_open = True

    @rx.event
    def edit_link(self, link_id: str) -> None:
        scope = self._scope()
        if scope is None:
            return
        try:
            with session_scope(readonly=True) as db:
                link = payment_links.get_link(db, scope, link_id)
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
        scope = self._scope()
        if scope is None:
            return AuthState.require_session
        try:
            permissions.require(self.role, P.MANAGE_PAYMENT_LINKS)
            currency = str(form.get("currency", "USD")).strip().upper()[:3]
            fixed = self.pricing == "fixed"
            try:
                quantity = int(str(form.get("max_quantity", "1")) or "1") if fixed else 1
            except ValueError:
                raise ValidationFailed("The quantity limit must be a whole number") from None
            values = {
                "name": form.get("name", ""),
                "description": form.get("description", ""),
                "currency": currency,
                "unit_amount": _minor(str(form.get("unit_amount", "")), currency, "unit_amount")
                if fixed
                else None,
                "min_amount": None
                if fixed
                else _minor(str(form.get("min_amount", "")), currency, "min_amount"),
                "max_amount": None
                if fixed
                else _minor(str(form.get("max_amount", "")), currency, "max_amount"),
                "max_quantity": quantity,
            }
            if fixed and values["unit_amount"] is None:
                raise ValidationFailed("Enter the price", param="unit_amount")
            with session_scope() as db:
                if self.editing_id:
                    link = payment_links.update_link(
                        db, scope, self.editing_id, actor_id=self._user_id, **values
                    )
                else:
                    link = payment_links.create_link(db, scope, actor_id=self._user_id, **values)
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice = f"Saved “{link.name}”. Share its link or QR code."
        self.error, self.form_open, self.editing_id = "", False, ""
        return PaymentLinksState.load

    @rx.event
    def set_active(self, link_id: str, active: bool):  # type: ignore[no-untyped-def]
        scope = self._scope()
        if scope is None:
            return AuthState.require_session
        try:
            permissions.require(self.role, P.MANAGE_PAYMENT_LINKS)
            with session_scope() as db:
                link = payment_links.set_active(
                    db, scope, link_id, bool(active), actor_id=self._user_id
                )
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice = f"“{link.name}” is now {'active' if link.active else 'inactive'}."
        self.error = ""
        return PaymentLinksState.load

    @rx.event
    def download_qr(self, link_id: str, kind: str):  # type: ignore[no-untyped-def]
        scope = self._scope()
        if scope is None:
            return AuthState.require_session
        try:
            permissions.require(self.role, P.VIEW_DATA)
            with session_scope(readonly=True) as db:
                link = payment_links.get_link(db, scope, link_id)
        except ServiceError as exc:
            self.error = exc.message
            return None
        if kind == "png":
            return rx.download(data=payment_links.qr_png(link), filename=f"{link.id}-qr.png")
        return rx.download(data=payment_links.qr_svg(link), filename=f"{link.id}-qr.svg")
