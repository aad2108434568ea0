"""The portal's payment links page for a signed-in member: list, create, edit, activate and
deactivate links, and their QR codes. Each function checks the member's permission, then
acts through payment_links in a unit of work of its own."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from backend.core.currency import exponent
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import PaymentLink
from backend.services.checkout import payment_links
from backend.services.context import Scope
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


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


def list_links(ctx: SessionContext) -> list[PaymentLink]:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        return list(payment_links.list_links(db, _scope(ctx)))


def get_link(ctx: SessionContext, link_id: str) -> PaymentLink:
    """One of the merchant's links in this mode (to fill the edit form)."""
    with session_scope(readonly=True) as db:
        return payment_links.get_link(db, _scope(ctx), link_id)


def save_link(
    ctx: SessionContext, link_id: str, form: Mapping[str, object], *, fixed: bool
) -> PaymentLink:
    """Create a link (link_id "") or change one, from the form as typed: a fixed price (with
    a quantity limit) or an amount the customer chooses between two bounds."""
    require(ctx.role, Permission.MANAGE_PAYMENT_LINKS)
    currency = str(form.get("currency", "USD")).strip().upper()[:3]
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
        if link_id:
            return payment_links.update_link(
                db, _scope(ctx), link_id, actor_id=ctx.user_id, **values
            )
        return payment_links.create_link(db, _scope(ctx), actor_id=ctx.user_id, **values)


def set_active(ctx: SessionContext, link_id: str, active: bool) -> PaymentLink:
    require(ctx.role, Permission.MANAGE_PAYMENT_LINKS)
    with session_scope() as db:
        return payment_links.set_active(db, _scope(ctx), link_id, active, actor_id=ctx.user_id)


def qr_code(ctx: SessionContext, link_id: str, kind: str) -> tuple[bytes | str, str]:
    """The link's QR code as PNG (kind "png") or SVG, and its file name."""
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        link = payment_links.get_link(db, _scope(ctx), link_id)
    if kind == "png":
        return payment_links.qr_png(link), f"{link.id}-qr.png"
    return payment_links.qr_svg(link), f"{link.id}-qr.svg"
