"""Which gateways a merchant uses, in what order and for what, and every attempt made on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class GatewayConfig(SQLModel, table=True):
    """One gateway of a merchant. Lower priority numbers are tried first; a rule left empty
    matches everything."""

    __tablename__ = "gateway_configs"
    __table_args__ = (Index("ix_gateway_configs_merchant", "merchant_id", "livemode", "priority"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    gateway: str = Field(max_length=32)  # "sandbox" or "stripe"
    priority: int = 100
    # Pinned configurations are tried first, in priority order, whatever they cost; the others
    # follow cheapest first for each payment (routing.candidate_routes).
    pinned: bool = False
    enabled: bool = True
    # Fernet-encrypted JSON ({"secret_key": ...}); null means the platform's own credentials.
    credentials_encrypted: str | None = Field(default=None, max_length=2000)
    currencies: list[str] = Field(default_factory=list, sa_type=JSON)
    methods: list[str] = Field(default_factory=list, sa_type=JSON)
    min_amount: int | None = Field(default=None, sa_type=BigInteger)
    max_amount: int | None = Field(default=None, sa_type=BigInteger)
    # The processor's own price; null falls back to that gateway's default (Stripe 2.9% + 30c).
    fee_percent_pips: int | None = None
    fee_fixed: dict[str, int] | None = Field(default=None, sa_type=JSON)
    # The processor's fee per dispute, minor units by currency; None: 15 units of the currency
    # (Stripe's 15.00 USD).
    dispute_fee: dict[str, int] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentAttempt(SQLModel, table=True):
    """One call to one gateway for one payment operation, kept whatever its outcome."""

    __tablename__ = "payment_attempts"

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    payment_id: str = Field(foreign_key="payments.id", index=True, max_length=40)
    operation: str = Field(max_length=16)  # authorize, charge, capture, void, refund
    gateway: str = Field(max_length=32)
    outcome: str = Field(max_length=32)  # succeeded, authorized, declined, error, ...
    code: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=500)
    latency_ms: int = 0
    # Why routing sent this try to this processor, in words ("cheapest: ...", "pinned first",
    # "failover: ..."); null for attempts from before migration 0028.
    route_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessorCircuit(SQLModel, table=True):
    """The circuit breaker of one processor account in one mode, shared by every worker.

    `processor_key` is the configuration's id, or the gateway's name for the platform's own
    account. closed: payments go to it; open: it kept failing without being reached, so it is
    skipped until `opened_at` + the cool-down; half_open: one trial payment (claimed at
    `trial_started_at`) decides whether it closes again."""

    __tablename__ = "processor_circuits"

    id: str = Field(primary_key=True, max_length=60)  # "<livemode 0|1>:<processor_key>"
    processor_key: str = Field(max_length=40)
    livemode: bool = False
    state: str = Field(default="closed", max_length=16)
    failures: int = 0  # failures without reaching it in the current window
    window_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trial_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BlocklistEntry(SQLModel, table=True):
    """A value a merchant never wants to take money from."""

    __tablename__ = "blocklist_entries"
    __table_args__ = (Index("uq_blocklist_entry", "merchant_id", "kind", "value", unique=True),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    kind: str = Field(max_length=20)  # email, card_fingerprint, ip_address, country
    value: str = Field(max_length=320)
    reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
