"""Messages sent to people: every e-mail is recorded, whichever provider carried it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class OutboundEmail(SQLModel, table=True):
    """One e-mail. With SendGrid configured it is sent and its message id kept; without, the
    sandbox twin only records it here, and the demo shows it at /dev/mailbox."""

    __tablename__ = "outbound_emails"
    __table_args__ = (
        Index("ix_outbound_emails_to_created", "to_email", "created_at"),
        Index("ix_outbound_emails_merchant_created", "merchant_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str | None = Field(default=None, foreign_key="merchants.id", max_length=40)
    to_email: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_type=Text)
    html_body: str | None = Field(default=None, sa_type=Text)
    template: str = Field(max_length=64)  # e.g. "receipt", "webhook_endpoint_failing"
    provider: str = Field(max_length=16)  # "sendgrid" or "sandbox"
    provider_message_id: str | None = Field(default=None, max_length=200)
    status: str = Field(default="queued", max_length=16)  # queued, sent, failed
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
