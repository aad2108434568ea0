"""Apple Pay and Google Pay on the live checkout: the checkout's domain registered with Stripe,
and Apple's domain-association file.

Stripe's Payment Element shows a wallet only on a domain registered on the Stripe account whose
publishable key it runs with (the platform's, STRIPE_SECRET_KEY / STRIPE_PUBLISHABLE_KEY), and
where that wallet is "active". The domain is always the host of APP_URL, the address customers
open the checkout at: it is never typed in, so nothing else can be registered from here.
Registering asks Stripe (backend.gateways.stripe_domains) and keeps what Stripe answered in
`payment_method_domains`, one row per domain and Stripe mode, which the Processors page reads.

Apple Pay in live mode also needs Apple's domain-association file (downloaded from Stripe's
dashboard) at /.well-known/apple-developer-merchantid-domain-association on that domain:
APPLE_PAY_DOMAIN_ASSOCIATION names the file and `apple_pay_association` reads it for that route.
Put the file up first, then register (or check again): Stripe verifies it when asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.gateways.stripe_domains import DomainRegistration, StripeDomains
from backend.models import PaymentMethodDomain
from backend.models.types import utcnow

log = logging.getLogger(__name__)

ASSOCIATION_PATH = "/.well-known/apple-developer-merchantid-domain-association"
# Apple's file is a few kilobytes of text; anything far larger is not it.
MAX_ASSOCIATION_BYTES = 64 * 1024


def checkout_domain() -> str:
    """The host customers open the checkout at (APP_URL's), as Stripe takes a domain name."""
    host = urlsplit(get_settings().app_url).hostname
    if not host:
        raise ValidationFailed("APP_URL has no host name to register", param="APP_URL")
    return host.lower()


def _stripe() -> StripeDomains:
    settings = get_settings()
    if not (settings.stripe_secret_key and settings.stripe_publishable_key):
        raise ValidationFailed(
            "Stripe keys are not set: the checkout's wallets are the sandbox's test wallet, "
            "which needs no domain",
            code="stripe_not_configured",
            param="STRIPE_SECRET_KEY",
        )
    return StripeDomains.from_settings(settings)


def _livemode() -> bool:
    return "_live_" in (get_settings().stripe_secret_key or "")


def current(db: Session) -> PaymentMethodDomain | None:
    """What Stripe last said about the checkout's domain in the Stripe keys' mode."""
    return db.exec(
        select(PaymentMethodDomain).where(
            PaymentMethodDomain.domain_name == checkout_domain(),
            PaymentMethodDomain.livemode == _livemode(),
        )
    ).first()


def _keep(db: Session, found: DomainRegistration) -> PaymentMethodDomain:
    row = db.get(PaymentMethodDomain, found.id, with_for_update=True)
    if row is None:
        stale = current(db)  # registered again at Stripe after a deletion there
        if stale is not None:
            db.delete(stale)
            db.flush()
        row = PaymentMethodDomain(id=found.id, domain_name=found.domain_name)
    row.livemode = found.livemode
    row.enabled = found.enabled
    row.apple_pay_status, row.apple_pay_error = found.apple_pay.status, found.apple_pay.error
    row.google_pay_status, row.google_pay_error = found.google_pay.status, found.google_pay.error
    row.checked_at = utcnow()
    db.add(row)
    db.flush()
    return row


def register(db: Session) -> PaymentMethodDomain:
    """Register the checkout's domain with Stripe (or check again the registration it has)."""
    domain = checkout_domain()
    stripe = _stripe()
    try:
        found = stripe.register(domain, idempotency_key=f"payment-method-domain:{domain}")
    finally:
        stripe.close()
    row = _keep(db, found)
    log.info(
        "payment method domain %s: apple_pay %s, google_pay %s",
        domain,
        row.apple_pay_status,
        row.google_pay_status,
    )
    return row


def check(db: Session) -> PaymentMethodDomain:
    """Ask Stripe to verify the registered domain again (after the association file went up)."""
    row = current(db)
    if row is None:
        raise NotFound(f"{checkout_domain()} is not registered with Stripe yet: register it first")
    stripe = _stripe()
    try:
        found = stripe.validate(row.id)
    finally:
        stripe.close()
    return _keep(db, found)


def apple_pay_association() -> bytes | None:
    """Apple's domain-association file (APPLE_PAY_DOMAIN_ASSOCIATION), None when unset or
    unreadable (the route then answers 404, as for any missing file)."""
    path = get_settings().apple_pay_domain_association
    if path is None:
        return None
    try:
        with path.open("rb") as file:
            content = file.read(MAX_ASSOCIATION_BYTES + 1)
    except OSError as exc:
        log.error("APPLE_PAY_DOMAIN_ASSOCIATION cannot be read: %s", exc.strerror)
        return None
    if not content.strip() or len(content) > MAX_ASSOCIATION_BYTES:
        log.error("APPLE_PAY_DOMAIN_ASSOCIATION is empty or too large to be Apple's file")
        return None
    return content


@dataclass(frozen=True)
class WalletsView:
    """The Processors page's "Apple Pay and Google Pay" panel."""

    stripe: bool  # Stripe keys set: the live checkout's Payment Element offers wallets
    domain: str
    registered: bool
    apple_pay: str  # "active", "inactive" or "" (not registered)
    apple_pay_error: str
    google_pay: str
    google_pay_error: str
    checked_at: datetime | None
    association_file: bool  # APPLE_PAY_DOMAIN_ASSOCIATION is set and readable


def view() -> WalletsView:
    settings = get_settings()
    stripe = bool(settings.stripe_secret_key and settings.stripe_publishable_key)
    with session_scope(readonly=True) as db:
        row = current(db) if stripe else None
    return WalletsView(
        stripe=stripe,
        domain=checkout_domain(),
        registered=row is not None,
        apple_pay=row.apple_pay_status if row else "",
        apple_pay_error=(row.apple_pay_error or "") if row else "",
        google_pay=row.google_pay_status if row else "",
        google_pay_error=(row.google_pay_error or "") if row else "",
        checked_at=row.checked_at if row else None,
        association_file=apple_pay_association() is not None,
    )
