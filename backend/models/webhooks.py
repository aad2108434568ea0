"""Webhooks in both directions and the transactional outbox that feeds the outbound ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import DeliveryStatus, EndpointStatus, InboundEventStatus
from backend.models.types import UTCDateTime, utcnow


class InboundWebhookEvent(SQLModel, table=True):
    """A provider's event (Stripe), stored with its raw payload before it is processed."""

    __tablename__ = "inbound_webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_inbound_provider_event"),
        Index("ix_inbound_status_next", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    # "stripe" for the platform's Stripe account; "stripe:<gateway config id>" for a merchant's
    # own Stripe account, whose events are verified with that configuration's signing secret and
    # may only touch that configuration's payments. Event ids are unique per source, so one
    # account's events can never shadow another's.
    provider: str = Field(default="stripe", max_length=64)
    event_id: str = Field(max_length=255)
    event_type: str = Field(max_length=100)
    livemode: bool = False
    payload: str = Field(sa_type=Text)
    status: str = Field(default=InboundEventStatus.PENDING, max_length=16)
    # A worker that takes the event holds it until this time; after it, the event is due again
    # (so one killed mid-processing is picked up by another).
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error_message: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DomainEvent(SQLModel, table=True):
    """The outbox: written in the same transaction as the change of money it describes."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_merchant_created", "merchant_id", "livemode", "created_at"),
        Index("ix_events_object", "object_id"),
        Index("ix_events_undispatched", "dispatched_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    type: str = Field(max_length=100)
    object_type: str = Field(max_length=40)
    object_id: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set once deliveries have been created for every subscribed endpoint.
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_merchant", "merchant_id", "livemode"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    url: str = Field(max_length=2048)
    description: str = Field(default="", max_length=300)
    enabled_events: list[str] = Field(default_factory=list, sa_type=JSON)
    # Signing secrets are needed in clear to sign, so they are encrypted at rest.
    secret_encrypted: str = Field(max_length=500)
    previous_secret_encrypted: str | None = Field(default=None, max_length=500)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=EndpointStatus.ENABLED, max_length=16)
    disabled_reason: str | None = Field(default=None, max_length=300)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Health: failed attempts since the last success, and when that success was.
    consecutive_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint; retried until it succeeds or runs out of time."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_endpoint_event"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", index=True, max_length=40)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", max_length=40)
    event_id: str = Field(foreign_key="events.id", index=True, max_length=40)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_error_code: str | None = Field(default=None, max_length=32)  # a FailureKind
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDeliveryAttempt(SQLModel, table=True):
    __tablename__ = "webhook_delivery_attempts"

    id: str = Field(primary_key=True, max_length=40)
    delivery_id: str = Field(foreign_key="webhook_deliveries.id", index=True, max_length=40)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, max_length=500)
    error_code: str | None = Field(default=None, max_length=32)  # a FailureKind
    response_excerpt: str | None = Field(default=None, max_length=2048)
