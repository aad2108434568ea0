"""A merchant's own settings from the portal: business profile, refund limits, price."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from sqlmodel import Session, select

from backend.core.currency import exponent, normalise_currency
from backend.core.errors import NotFound, ValidationFailed
from backend.models import FeeOverride, FeeTier, Merchant, utcnow
from backend.services import audit
from backend.services.context import Actor
from backend.services.identity.accounts import normalise_email
from backend.services.payments import merchant_terms
from backend.services.payments.fees import (
    STRIPE_DEFAULT,
    FeeBreakdown,
    FeeSchedule,
    compute_fees,
    describe,
)
from backend.services.payments.orders import MAX_AMOUNT

# Locales the portal offers (Babel knows hundreds; these are the ones merchants ask for).
LOCALES = (
    "en_US",
    "en_GB",
    "en_CA",
    "en_AU",
    "fr_FR",
    "fr_CA",
    "de_DE",
    "es_ES",
    "es_MX",
    "it_IT",
    "nl_NL",
    "pt_BR",
    "ja_JP",
    "sv_SE",
    "pl_PL",
)


# ISO 3166 countries by their English names (Babel's CLDR data), without CLDR's groupings and
# placeholders (EU, UN, ZZ "Unknown Region"...).
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"}
COUNTRIES: dict[str, str] = {
    code: name
    for code, name in Locale("en").territories.items()
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
}


def _merchant(db: Session, merchant_id: str, *, lock: bool = False) -> Merchant:
    query = select(Merchant).where(Merchant.id == merchant_id)
    if lock:
        query = query.with_for_update()
    merchant = db.exec(query).first()
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


@dataclass(frozen=True)
class Profile:
    name: str
    support_email: str
    country: str
    timezone: str
    locale: str
    default_currency: str


def _validate(profile: Profile) -> Profile:
    name = profile.name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationFailed("Enter the business name (at most 200 characters)", param="name")
    support_email = normalise_email(profile.support_email, param="support_email")
    country = profile.country.strip().upper()
    if country not in COUNTRIES:
        raise ValidationFailed("Choose a country", param="country")
    if profile.timezone not in available_timezones():
        raise ValidationFailed("Choose a time zone", param="timezone")
    try:
        Locale.parse(profile.locale)
    except (UnknownLocaleError, ValueError):
        raise ValidationFailed("Choose a language and region", param="locale") from None
    if profile.locale not in LOCALES:
        raise ValidationFailed("Choose a language and region", param="locale")
    currency = normalise_currency(profile.default_currency, param="default_currency")
    return Profile(name, support_email, country, profile.timezone, profile.locale, currency)


def update_profile(db: Session, merchant_id: str, profile: Profile, *, actor: Actor) -> Merchant:
    clean = _validate(profile)
    merchant = _merchant(db, merchant_id, lock=True)
    changed = {key: value for key, value in vars(clean).items() if getattr(merchant, key) != value}
    for key, value in changed.items():
        setattr(merchant, key, value)
    if changed:
        merchant.updated_at = utcnow()
        db.add(merchant)
        _audit(db, merchant, "merchant.profile_updated", actor, sorted(changed))
    return merchant


def update_refund_limits(
    db: Session,
    merchant_id: str,
    *,
    support_refund_limit: int,
    step_up_refund_threshold: int,
    actor: Actor,
) -> Merchant:
    """Both in minor units of the merchant's default currency."""
    for param, value in (
        ("support_refund_limit", support_refund_limit),
        ("step_up_refund_threshold", step_up_refund_threshold),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
            raise ValidationFailed("Enter an amount of zero or more", param=param)
    merchant = _merchant(db, merchant_id, lock=True)
    merchant.support_refund_limit = support_refund_limit
    merchant.step_up_refund_threshold = step_up_refund_threshold
    merchant.updated_at = utcnow()
    db.add(merchant)
    _audit(
        db,
        merchant,
        "merchant.refund_limits_updated",
        actor,
        ["support_refund_limit", "step_up_refund_threshold"],
    )
    return merchant


def _audit(db: Session, merchant: Merchant, action: str, actor: Actor, fields: list[str]) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=merchant.id,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type="merchant",
        object_id=merchant.id,
        ip_address=actor.ip_address,
        details={"fields": fields},
    )


@dataclass(frozen=True)
class Price:
    tier_name: str
    tier_description: str
    platform: FeeSchedule
    negotiated: bool
    example: FeeBreakdown
    example_currency: str

    def describe(self, locale: str = "en_US") -> str:
        return describe(self.platform, locale)


def price(db: Session, merchant_id: str, *, example_amount: int | None = None) -> Price:
    """The merchant's platform price and what it means for one payment of example_amount
    (100 in the default currency's major unit, by default), with the card processor's fee."""
    merchant = _merchant(db, merchant_id)
    tier = db.get(FeeTier, merchant.fee_tier_id)
    assert tier is not None  # a foreign key
    override = db.exec(select(FeeOverride).where(FeeOverride.merchant_id == merchant.id)).first()
    schedule = merchant_terms.terms(db, merchant.id, fresh=True).platform_fees
    currency = merchant.default_currency
    amount = example_amount or 100 * 10 ** exponent(currency)
    example = compute_fees(amount, currency, schedule, STRIPE_DEFAULT)
    return Price(tier.name, tier.description, schedule, override is not None, example, currency)
