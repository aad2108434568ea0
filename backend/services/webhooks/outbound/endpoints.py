"""Merchants' webhook endpoints: create, read, update, delete, roll the signing secret, disable;
and their public shape. All tenant-scoped: another merchant's id is simply not found.

Server-side request forgery and which URLs are valid: urls.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from backend.core import crypto
from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import random_token
from backend.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint, utcnow
from backend.models.enums import DeliveryStatus, EndpointStatus
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.events import EVENT_TYPES
from backend.services.payments.orders import owned
from backend.services.representations import timestamp
from backend.services.webhooks.outbound.failures import FailureKind
from backend.services.webhooks.outbound.urls import check_url

SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS = 16  # per merchant and mode
MAX_OVERLAP_HOURS = 7 * 24


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once, at creation or roll


def _validate_events(enabled_events: object) -> list[str]:
    if not isinstance(enabled_events, list) or not enabled_events:
        raise ValidationFailed(
            'enabledEvents must list at least one event type (or "*")', param="enabledEvents"
        )
    unknown = [e for e in enabled_events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            f"Unknown event types {unknown}; choose from {list(EVENT_TYPES)} or '*'",
            param="enabledEvents",
        )
    return ["*"] if "*" in enabled_events else sorted(set(enabled_events))


def _validate_description(description: object) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > 300:
        raise ValidationFailed("description takes at most 300 characters", param="description")
    return description


def _new_secret() -> tuple[str, str]:
    secret = SECRET_PREFIX + random_token(32)
    return secret, crypto.encrypt(secret)


def _audit(
    db: Session, endpoint: WebhookEndpoint, action: str, actor: Actor, **details: Any
) -> None:
    audit.record_by(db, actor, action, endpoint, "webhook_endpoint", details)


def create_endpoint(
    db: Session,
    scope: Scope,
    *,
    url: str,
    enabled_events: list[str],
    description: str | None = None,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> EndpointWithSecret:
    events = _validate_events(enabled_events)
    text = _validate_description(description)
    count = db.exec(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(
            WebhookEndpoint.merchant_id == scope.merchant_id,
            WebhookEndpoint.livemode == scope.livemode,
        )
    ).one()
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed(
            f"At most {MAX_ENDPOINTS} webhook endpoints per mode", code="endpoint_limit_reached"
        )
    check_url(url, livemode=scope.livemode)
    secret, encrypted = _new_secret()
    now = now or utcnow()
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        url=url,  # check_url refuses surrounding whitespace: nothing is trimmed silently
        description=text,
        enabled_events=events,
        secret_encrypted=encrypted,
        created_at=now,
        updated_at=now,
    )
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.created", actor, url=endpoint.url, enabledEvents=events)
    return EndpointWithSecret(endpoint, secret)


def get_endpoint(
    db: Session, scope: Scope, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    return owned(db, WebhookEndpoint, scope, endpoint_id, param="endpointId", lock=lock)


def list_endpoints(db: Session, scope: Scope) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.merchant_id == scope.merchant_id,
            WebhookEndpoint.livemode == scope.livemode,
        )
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    return list(db.exec(query).all())


def update_endpoint(
    db: Session,
    scope: Scope,
    endpoint_id: str,
    *,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    disabled: bool | None = None,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> WebhookEndpoint:
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    now = now or utcnow()
    changes: dict[str, Any] = {}
    if url is not None:
        check_url(url, livemode=endpoint.livemode)
        endpoint.url = changes["url"] = url
    if enabled_events is not None:
        endpoint.enabled_events = changes["enabledEvents"] = _validate_events(enabled_events)
    if description is not None:
        endpoint.description = _validate_description(description)
    if disabled is True and endpoint.status == EndpointStatus.ENABLED:
        disable(db, endpoint, "Disabled by the merchant", now)
        changes["status"] = EndpointStatus.DISABLED
    elif disabled is False and endpoint.status == EndpointStatus.DISABLED:
        endpoint.status, endpoint.disabled_reason = EndpointStatus.ENABLED, None
        # A fresh start: the failure clock and count restart.
        endpoint.failing_since, endpoint.consecutive_failures = None, 0
        changes["status"] = EndpointStatus.ENABLED
    endpoint.updated_at = now
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.updated", actor, **changes)
    return endpoint


def delete_endpoint(db: Session, scope: Scope, endpoint_id: str, *, actor: Actor = SYSTEM) -> None:
    """Deletes the endpoint with its delivery log; its events stay in the outbox."""
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.exec(
        delete(WebhookDeliveryAttempt).where(
            col(WebhookDeliveryAttempt.delivery_id).in_(deliveries)
        )
    )
    db.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
    _audit(db, endpoint, "webhook_endpoint.deleted", actor, url=endpoint.url)
    db.delete(endpoint)


def roll_secret(
    db: Session,
    scope: Scope,
    endpoint_id: str,
    *,
    overlap_hours: int = 24,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> EndpointWithSecret:
    """A new signing secret; the current one keeps signing too for overlap_hours (0: not)."""
    if (
        isinstance(overlap_hours, bool)
        or not isinstance(overlap_hours, int)
        or not 0 <= overlap_hours <= MAX_OVERLAP_HOURS
    ):
        raise ValidationFailed(
            f"expiresInHours must be an integer from 0 to {MAX_OVERLAP_HOURS}",
            param="expiresInHours",
        )
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    now = now or utcnow()
    secret, encrypted = _new_secret()
    if overlap_hours:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret_encrypted = endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = encrypted
    endpoint.updated_at = now
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.secret_rolled", actor, overlapHours=overlap_hours)
    return EndpointWithSecret(endpoint, secret)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [crypto.decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > now:
        found.append(crypto.decrypt(endpoint.previous_secret_encrypted))
    return found


def disable(db: Session, endpoint: WebhookEndpoint, why: str, now: datetime) -> None:
    """Disable the endpoint and fail its pending deliveries (redeliver them once it is back)."""
    endpoint.status, endpoint.disabled_reason, endpoint.updated_at = (
        EndpointStatus.DISABLED,
        why[:300],
        now,
    )
    db.add(endpoint)
    db.exec(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            locked_until=None,
            last_error="endpoint disabled",
            last_error_code=FailureKind.ENDPOINT_DISABLED,
        )
    )


def require_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != EndpointStatus.ENABLED:
        raise Conflict(
            "This endpoint is disabled: enable it first", code="endpoint_disabled", param=None
        )


def endpoint_to_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "livemode": endpoint.livemode,
        "url": endpoint.url,
        "description": endpoint.description,
        "enabledEvents": list(endpoint.enabled_events),
        "status": endpoint.status,
        "disabledReason": endpoint.disabled_reason,
        "failingSince": timestamp(endpoint.failing_since),
        "consecutiveFailures": endpoint.consecutive_failures,
        "lastSuccessAt": timestamp(endpoint.last_success_at),
        "previousSecretExpiresAt": timestamp(endpoint.previous_secret_expires_at),
        "createdAt": timestamp(endpoint.created_at),
        "updatedAt": timestamp(endpoint.updated_at),
    }
