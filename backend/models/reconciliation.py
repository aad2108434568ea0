"""Reconciliation: where our records and a processor's (or the payout rail's) disagree, and the
cursor of each merchant processor's payout import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import ReconciliationStatus
from backend.models.types import UTCDateTime, utcnow


class ReconciliationException(SQLModel, table=True):
    """One disagreement, found once: a later run that finds it again only refreshes what it saw
    (the unique key), and one that no longer finds it resolves it.

    `our_id` is the record of ours that was compared (a balance transaction or a payout), ""
    when we have none; `their_id` the processor's balance transaction or payout, or the rail's
    transfer, "" when they have none ("" rather than NULL, so the unique key holds)."""

    __tablename__ = "reconciliation_exceptions"
    __table_args__ = (
        UniqueConstraint("merchant_id", "kind", "our_id", "their_id"),
        Index(
            "ix_reconciliation_exceptions_list", "merchant_id", "livemode", "status", "created_at"
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    kind: str = Field(max_length=24)
    # Whose records were compared: "platform" (our Stripe account, or our payout rail) or the
    # id of the merchant's own processor configuration.
    account: str = Field(max_length=40)
    our_id: str = Field(default="", max_length=64)
    their_id: str = Field(default="", max_length=64)
    # The object a person looks up: payment, refund, dispute or payout, and its id (ours).
    object_type: str = Field(default="", max_length=20)
    object_id: str = Field(default="", max_length=64)
    currency: str = Field(max_length=3)
    expected: int | None = Field(default=None, sa_type=BigInteger)  # ours
    actual: int | None = Field(default=None, sa_type=BigInteger)  # theirs
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # {"ours", "theirs"}
    status: str = Field(default=ReconciliationStatus.OPEN, max_length=16)
    resolution_note: str | None = Field(default=None, max_length=1000)
    resolved_by: str | None = Field(default=None, max_length=40)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessorPayoutCursor(SQLModel, table=True):
    """Where the payout import of one merchant processor got to: the newest payout's creation
    time seen (the next import reads from a little before it, to catch late status moves)."""

    __tablename__ = "processor_payout_cursors"

    gateway_config_id: str = Field(
        primary_key=True, foreign_key="gateway_configs.id", ondelete="CASCADE", max_length=40
    )
    created_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
