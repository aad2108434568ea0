"""Idempotency records and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import ActorType
from backend.models.types import UTCDateTime, utcnow


class IdempotencyKey(SQLModel, table=True):
    """The first response to a mutating request, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("merchant_id", "livemode", "key", name="uq_idempotency_scope_key"),
        Index("ix_idempotency_expires", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_digest: str = Field(max_length=64)
    # Null while the first request is still running.
    response_status: int | None = None
    response_body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_merchant_created", "merchant_id", "created_at"),
        Index("ix_audit_object", "object_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str | None = Field(default=None, foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    actor_type: str = Field(default=ActorType.SYSTEM, max_length=16)
    actor_id: str | None = Field(default=None, max_length=40)
    action: str = Field(max_length=100)
    object_type: str | None = Field(default=None, max_length=40)
    object_id: str | None = Field(default=None, max_length=40)
    ip_address: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
