"""Inbound PayPal webhooks: find the processor the URL names, have PayPal confirm the event was
sent to that processor's webhook id, and turn it into the event the inbound queue stores
(provider "paypal:<config id>", the processor's mode), processed by the job runner like Stripe's.

A PayPal app (and so its webhook id) belongs to one merchant's processor, so each PayPal
processor has its own URL, /api/webhooks/paypal/<config id>, as a merchant's own Stripe account
has. The verification call goes to PayPal with the processor's own credentials (the client is
cached per app, so its OAuth token is reused between events).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.gateways.paypal import PayPalClient
from backend.gateways.paypal import webhooks as paypal_webhooks
from backend.gateways.paypal.webhooks import WebhookRejected
from backend.services.payments import gateway_configs
from backend.services.webhooks.inbound.paypal_handlers import PROVIDER
from backend.services.webhooks.inbound.receive import VerifiedEvent

__all__ = ["UnknownProcessor", "WebhookRejected", "verify"]


class UnknownProcessor(Exception):
    """No PayPal processor with a webhook id has this id: the endpoint answers 404."""


@lru_cache(maxsize=64)
def _client(client_id: str, secret: str, environment: str, api_base: str | None) -> PayPalClient:
    return PayPalClient(client_id, secret, environment=environment, api_base=api_base)


def _source(config_id: str) -> tuple[tuple[str, str, str, str], bool]:
    with session_scope(readonly=True) as db:
        config = gateway_configs.paypal_webhook_source(db, config_id)
        found = gateway_configs.paypal_credentials(config) if config is not None else None
        if config is None or found is None or found[3] is None:
            raise UnknownProcessor(config_id)
        return (found[0], found[1], found[2], found[3]), config.livemode


def verify(config_id: str, headers: Any, body: bytes) -> VerifiedEvent:
    """The verified event, ready to store. Raises UnknownProcessor (404), WebhookRejected
    (400) or GatewayUnavailable (503: PayPal could not be asked; it retries)."""
    (client_id, secret, environment, webhook_id), livemode = _source(config_id[:64])
    paypal_webhooks.transmission(headers)  # refuse unsigned requests before any call
    paypal_webhooks.parse(body)
    client = _client(client_id, secret, environment, get_settings().paypal_api_base)
    event = paypal_webhooks.verify(client, webhook_id, headers, body)
    return VerifiedEvent(
        event.event_id, event.type, livemode, event.payload, config_id, provider=PROVIDER
    )
