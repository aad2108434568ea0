"""The ledger: journals of balanced entries, the merchant's balance transactions, cached balances,
payouts and their schedules.

Every amount is an integer in the minor unit of the row's currency. Rows are written by
backend/services/ledger (called from the one booking path) and never updated, except a balance
transaction's status (pending → available) and the payout that paid it out, and the cached
balance row that serialises the bookings of one merchant's balance.

`holder` says who holds the money: "platform" (we collect it and pay it out through the
merchant's bank account), or the id of a merchant's own processor configuration whose
processor pays the merchant directly (their payouts are imported, not made by us). A Connect
rail later is one more holder, not another ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import BalanceTransactionStatus, PayoutInterval, PayoutStatus
from backend.models.types import UTCDateTime, utcnow

PLATFORM = "platform"


class LedgerJournal(SQLModel, table=True):
    """One booking: its entries sum to zero per currency."""

    __tablename__ = "ledger_journals"
    __table_args__ = (Index("ix_ledger_journals_source", "source_id"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    # What happened, e.g. "capture", "refund", "release", "payout_paid".
    kind: str = Field(max_length=40)
    # One journal per happening of a source ("capture:pay_1"): booking it twice is refused by
    # the database, so a repeated event can never book money twice.
    key: str = Field(max_length=120, unique=True)
    source_type: str = Field(max_length=20)
    source_id: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index(
            "ix_ledger_entries_account",
            "merchant_id",
            "livemode",
            "currency",
            "account",
            "created_at",
        ),
    )

    # SQLite numbers rows itself only for an INTEGER PRIMARY KEY (a 64-bit rowid anyway).
    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    journal_id: str = Field(foreign_key="ledger_journals.id", index=True, max_length=40)
    merchant_id: str = Field(max_length=40)
    livemode: bool = False
    holder: str = Field(default=PLATFORM, max_length=40)
    currency: str = Field(max_length=3)
    account: str = Field(max_length=32)
    amount: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BalanceTransaction(SQLModel, table=True):
    """A movement of the merchant's balance, as Stripe shows them: net = amount - fee."""

    __tablename__ = "balance_transactions"
    __table_args__ = (
        Index("ix_balance_transactions_list", "merchant_id", "livemode", "created_at", "id"),
        Index(
            "ix_balance_transactions_release",
            "merchant_id",
            "livemode",
            "currency",
            "status",
            "available_on",
        ),
        # The release job's scan across merchants: pending funds whose date has passed.
        Index("ix_balance_transactions_due", "status", "available_on"),
        Index("ix_balance_transactions_payout", "payout_id"),
        Index("ix_balance_transactions_source", "source_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    journal_id: str = Field(foreign_key="ledger_journals.id", max_length=40)
    holder: str = Field(default=PLATFORM, max_length=40)
    type: str = Field(max_length=24)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=BigInteger)
    fee: int = Field(default=0, sa_type=BigInteger)
    net: int = Field(sa_type=BigInteger)
    status: str = Field(default=BalanceTransactionStatus.PENDING, max_length=16)
    available_on: datetime = Field(sa_type=UTCDateTime)
    source_type: str = Field(max_length=20)
    source_id: str = Field(max_length=40)
    payout_id: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Balance(SQLModel, table=True):
    """The merchant's balance in one currency held by one holder: the ledger's sums, kept with
    every booking. Its row is locked while a booking draws on it, so two bookings never spend
    the same money."""

    __tablename__ = "balances"

    merchant_id: str = Field(primary_key=True, foreign_key="merchants.id", max_length=40)
    livemode: bool = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    holder: str = Field(primary_key=True, default=PLATFORM, max_length=40)
    available: int = Field(default=0, sa_type=BigInteger)
    pending: int = Field(default=0, sa_type=BigInteger)
    in_transit: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Payout(SQLModel, table=True):
    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_merchant_created", "merchant_id", "livemode", "created_at", "id"),
        Index("ix_payouts_status", "status", "livemode"),
        UniqueConstraint("rail", "rail_transfer_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    holder: str = Field(default=PLATFORM, max_length=40)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: str = Field(default=PayoutStatus.PENDING, max_length=16)
    automatic: bool = False
    # "plaid" or "sandbox" for our payouts; "stripe" for a processor's own payout, imported.
    rail: str = Field(max_length=16)
    rail_transfer_id: str | None = Field(default=None, max_length=64)
    bank_account_id: str | None = Field(default=None, foreign_key="bank_accounts.id", max_length=40)
    description: str | None = Field(default=None, max_length=200)
    arrival_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failure_code: str | None = Field(default=None, max_length=32)
    failure_message: str | None = Field(default=None, max_length=300)
    created_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PayoutSchedule(SQLModel, table=True):
    """When a merchant is paid in one currency; without a row, daily with no minimum."""

    __tablename__ = "payout_schedules"

    merchant_id: str = Field(primary_key=True, foreign_key="merchants.id", max_length=40)
    livemode: bool = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    interval: str = Field(default=PayoutInterval.DAILY, max_length=16)
    weekly_anchor: int = 0  # 0 Monday ... 4 Friday
    monthly_anchor: int = 1  # 1-31; a shorter month pays on its last day
    minimum_amount: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutRailCursor(SQLModel, table=True):
    """How far the rail's event feed has been read (Plaid's event_id), one row per rail, so a
    sync picks up where the last one stopped and never applies an event twice in a row."""

    __tablename__ = "payout_rail_cursors"

    rail: str = Field(primary_key=True, max_length=16)
    last_event_id: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
