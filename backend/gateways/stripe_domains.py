"""Stripe's payment method domains: the web domains where Stripe's Payment Element may show
Apple Pay and Google Pay (https://docs.stripe.com/payments/payment-methods/pmd-registration).

A domain is registered once per Stripe account and mode. Stripe then checks each wallet on it:
Google Pay needs nothing more; Apple Pay (in live mode) needs Apple's domain-association file at
`https://<domain>/.well-known/apple-developer-merchantid-domain-association`, and stays inactive,
with Stripe's reason, until `validate` finds it. Through the stripe SDK, at STRIPE_API_BASE when
it is set (the tests' local fake). No database here: backend.services.checkout.wallet_domains
keeps what Stripe said.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe

from backend.core.config import Settings, get_settings
from backend.core.errors import Unavailable, ValidationFailed
from backend.gateways.stripe_gateway import client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalletStatus:
    """One wallet on a domain: "active", or "inactive" with Stripe's reason."""

    status: str
    error: str | None = None


@dataclass(frozen=True)
class DomainRegistration:
    id: str  # pmd_...
    domain_name: str
    livemode: bool
    enabled: bool
    apple_pay: WalletStatus
    google_pay: WalletStatus


class StripeDomains:
    """Register and check payment method domains on one Stripe account."""

    def __init__(self, secret_key: str, api_base: str | None = None, timeout: float = 10.0):
        self._http = stripe.RequestsClient(timeout=timeout)
        self._client = client(secret_key, api_base.rstrip("/") if api_base else None, self._http)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> StripeDomains:
        """The platform's Stripe account (STRIPE_SECRET_KEY), whose publishable key the
        checkout's Payment Element uses."""
        settings = settings or get_settings()
        if not settings.stripe_secret_key:
            raise RuntimeError("STRIPE_SECRET_KEY is not set")
        return cls(settings.stripe_secret_key, api_base=settings.stripe_api_base)

    def close(self) -> None:
        self._http.close()

    def find(self, domain_name: str) -> DomainRegistration | None:
        """The account's registration of this domain, if any."""
        found = self._call(
            lambda: self._client.v1.payment_method_domains.list(
                params={"domain_name": domain_name, "limit": 1}
            )
        )
        return _registration(found.data[0]) if found.data else None

    def register(self, domain_name: str, *, idempotency_key: str) -> DomainRegistration:
        """Register the domain, or check again the registration it already has (registering
        twice is refused by Stripe; asking twice here is not an error)."""
        existing = self.find(domain_name)
        if existing is not None:
            return self.validate(existing.id)
        created = self._call(
            lambda: self._client.v1.payment_method_domains.create(
                params={"domain_name": domain_name, "enabled": True},
                options={"idempotency_key": idempotency_key},
            )
        )
        return _registration(created)

    def validate(self, domain_id: str) -> DomainRegistration:
        """Stripe checks the domain's wallets again (after the association file was put up)."""
        return _registration(
            self._call(lambda: self._client.v1.payment_method_domains.validate(domain_id))
        )

    @staticmethod
    def _call(request: Any) -> Any:
        try:
            return request()
        except stripe.InvalidRequestError as err:
            # The request itself was refused (a domain Stripe does not take): the caller's.
            raise ValidationFailed(
                err.user_message or "Stripe refused the domain",
                code="domain_refused",
                param="domainName",
            ) from err
        except stripe.StripeError as err:
            log.warning("stripe payment method domains: %s", type(err).__name__)
            raise Unavailable(
                f"Stripe could not be asked about the domain ({type(err).__name__}): try again"
            ) from err


def _wallet(domain: Any, name: str) -> WalletStatus:
    wallet = getattr(domain, name, None)
    details = getattr(wallet, "status_details", None)
    return WalletStatus(
        getattr(wallet, "status", None) or "inactive",
        getattr(details, "error_message", None),
    )


def _registration(domain: Any) -> DomainRegistration:
    return DomainRegistration(
        id=domain.id,
        domain_name=domain.domain_name,
        livemode=bool(domain.livemode),
        enabled=bool(domain.enabled),
        apple_pay=_wallet(domain, "apple_pay"),
        google_pay=_wallet(domain, "google_pay"),
    )
