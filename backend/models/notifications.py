"""Which e-mails each member of a merchant's team wants."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class NotificationPreference(SQLModel, table=True):
    """One member's choices for one merchant. No row means the defaults (owners get all)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("merchant_id", "user_id", name="uq_notification_preference"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    user_id: str = Field(foreign_key="users.id", max_length=40)
    dispute_created: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    dispute_due_soon: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    refund_failed: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
