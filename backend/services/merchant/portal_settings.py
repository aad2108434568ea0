"""The portal's settings pages for a signed-in member: business profile, notifications, refund
limits and price (Settings), checkout branding, and risk rules.

Each function takes the member's resolved session, checks the permission matrix first, then
opens its own unit of work and calls the service that acts (business_profile, notifications,
checkout.branding, risk, risk_settings). The state classes only copy the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import BlocklistEntry, Merchant
from backend.models.enums import ActorType
from backend.services.billing import settings as billing_settings
from backend.services.checkout import branding
from backend.services.context import Actor, Scope
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import business_profile, notifications
from backend.services.payments import blocklist, risk_settings
from backend.services.payments.money_input import parse_money


def _actor(ctx: SessionContext, ip_address: str | None) -> Actor:
    return Actor(ActorType.USER, ctx.user_id, ip_address or None)


def _merchant(db, merchant_id: str) -> Merchant:  # type: ignore[no-untyped-def]
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Dunning:
    """The Settings page's view of the billing settings, as the form shows them."""

    retry_days: str  # "3, 5, 7"
    end: str  # cancel | unpaid
    portal_allows_cancel: bool


@dataclass(frozen=True)
class SettingsPage:
    merchant: Merchant
    choices: notifications.Choices
    price: business_profile.Price
    dunning: Dunning


def settings_page(ctx: SessionContext, *, example_amount: int | None = None) -> SettingsPage:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        merchant = _merchant(db, ctx.merchant_id)
        choices = notifications.get_choices(
            db, merchant_id=merchant.id, user_id=ctx.user_id, role=ctx.role
        )
        price = business_profile.price(db, merchant.id, example_amount=example_amount)
        found = billing_settings.billing_settings(db, merchant.id)
        dunning = Dunning(
            ", ".join(str(day) for day in found.retry_days),
            found.dunning_end,
            found.portal_allows_cancel,
        )
    return SettingsPage(merchant, choices, price, dunning)


def save_dunning(
    ctx: SessionContext,
    retry_days: str,
    end: str,
    portal_allows_cancel: bool,
    *,
    ip_address: str | None,
) -> None:
    """`retry_days` as typed ("3, 5, 7"; empty: no retry)."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    days: list[object] = []
    for part in retry_days.replace(";", ",").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise ValidationFailed(
                    "Retry days are whole numbers of days, separated by commas (3, 5, 7)",
                    param="retryDays",
                )
            days.append(int(part.strip()))
    with session_scope() as db:
        billing_settings.update_billing_settings(
            db,
            Scope(ctx.merchant_id, ctx.livemode),
            retry_days=days,
            dunning_end=end,
            portal_allows_cancel=portal_allows_cancel,
            actor=_actor(ctx, ip_address),
        )


def save_profile(
    ctx: SessionContext, profile: business_profile.Profile, *, ip_address: str | None
) -> None:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        business_profile.update_profile(db, ctx.merchant_id, profile, actor=_actor(ctx, ip_address))


def set_notification(ctx: SessionContext, kind: str, value: bool) -> notifications.Choices:
    """The member's own e-mail choice (every member has their own)."""
    with session_scope() as db:
        return notifications.set_choices(
            db, merchant_id=ctx.merchant_id, user_id=ctx.user_id, choices={kind: value}
        )


def save_refund_limits(
    ctx: SessionContext,
    typed: Mapping[str, str],
    currency: str,
    locale: str,
    *,
    ip_address: str | None,
) -> None:
    """`typed`: support_refund_limit and step_up_refund_threshold as the member typed them, in
    major units of `currency` and the member's locale."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    values = {
        param: parse_money(typed.get(param, ""), currency, locale, param=param, minimum=0)
        for param in ("support_refund_limit", "step_up_refund_threshold")
    }
    with session_scope() as db:
        business_profile.update_refund_limits(
            db, ctx.merchant_id, **values, actor=_actor(ctx, ip_address)
        )


# ---------------------------------------------------------------------------------------------
# Checkout branding


@dataclass(frozen=True)
class Branding:
    brand_color: str
    logo_url: str


def branding_page(ctx: SessionContext) -> Branding | None:
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
    if merchant is None:
        return None
    return Branding(merchant.brand_color, merchant.logo_path or "")


def save_brand_color(ctx: SessionContext, color: object) -> str:
    """The saved colour, normalised (#rrggbb)."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        merchant = branding.set_brand_color(db, ctx.merchant_id, color, actor_id=ctx.user_id)
    return merchant.brand_color


def upload_logo(ctx: SessionContext, data: bytes) -> str:
    """The new logo's address."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        logo = branding.upload_logo(db, ctx.merchant_id, data, actor_id=ctx.user_id)
    return branding.logo_url(logo)


def remove_logo(ctx: SessionContext) -> None:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        branding.remove_logo(db, ctx.merchant_id, actor_id=ctx.user_id)


# ---------------------------------------------------------------------------------------------
# Risk rules


@dataclass(frozen=True)
class RiskRules:
    review_score: int
    block_score: int
    blocklist: list[BlocklistEntry]


def risk_rules(ctx: SessionContext) -> RiskRules:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        merchant = _merchant(db, ctx.merchant_id)
        found = blocklist.list_blocklist(db, merchant.id)
    return RiskRules(merchant.risk_review_score, merchant.risk_block_score, list(found))


def _score(text: object, param: str) -> int:
    cleaned = str(text or "").strip()
    if not cleaned.isdigit():
        raise ValidationFailed(f"The {param} score is a whole number from 0 to 101", param=param)
    return int(cleaned)


def save_risk_thresholds(
    ctx: SessionContext, review: object, block: object, *, ip_address: str | None
) -> None:
    """The two scores as typed (whole numbers from 0 to 101)."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    review_score, block_score = _score(review, "review"), _score(block, "block")
    with session_scope() as db:
        risk_settings.set_risk_thresholds(
            db,
            ctx.merchant_id,
            review=review_score,
            block=block_score,
            actor=_actor(ctx, ip_address),
        )


def add_blocklist_entry(ctx: SessionContext, kind: str, value: str, reason: str) -> BlocklistEntry:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        return blocklist.add_to_blocklist(
            db,
            ctx.merchant_id,
            kind,
            value,
            reason,
            actor_type=ActorType.USER,
            actor_id=ctx.user_id,
        )


def remove_blocklist_entry(ctx: SessionContext, entry_id: str) -> BlocklistEntry:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        return blocklist.delete_blocklist_entry(
            db, ctx.merchant_id, entry_id, actor_type=ActorType.USER, actor_id=ctx.user_id
        )
