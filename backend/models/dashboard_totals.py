"""The dashboard's running totals: what its figures and charts sum, kept per merchant, mode,
currency and UTC time bucket, so reading them costs the same at ten thousand payments as at
ten million (see backend/services/payments/totals.py, which alone writes them).

A bucket is a cell of one of three sizes (`bucket_seconds`: 900, 3,600 or 86,400) starting at
`bucket_start` (seconds since the epoch, a multiple of the size): every figure is kept at all
three, so a range is summed from a few day cells and the quarter hours and hours at its edges.
Quarter hours are what keeps local days exact: every time zone in use is a whole number of
quarter hours from UTC, so no quarter straddles a merchant's midnight.

Derived data, rebuilt from payments, refunds and disputes by totals.rebuild: no foreign keys
(a key check per increment would slow the charge path for nothing), and SQLite keeps the rows
in their primary key's order (WITHOUT ROWID), which is the order every reader walks them in.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)


class DashboardTotal(SQLModel, table=True):
    """Per bucket: payments by the bucket of their created_at, refunds and disputes by theirs
    (each figure is keyed on the timestamp the dashboard has always filtered it on)."""

    __tablename__ = "dashboard_totals"
    __table_args__ = {"sqlite_with_rowid": False}

    merchant_id: str = Field(primary_key=True, max_length=40)
    livemode: bool = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    bucket_seconds: int = Field(primary_key=True)
    bucket_start: int = Field(primary_key=True, sa_type=BigInteger)
    payments: int = Field(default=0, sa_type=BigInteger)  # created, whatever their status
    successful: int = Field(default=0, sa_type=BigInteger)  # captured or authorized
    failed: int = Field(default=0, sa_type=BigInteger)
    captured: int = Field(default=0, sa_type=BigInteger)  # in a captured status
    gross: int = Field(default=0, sa_type=BigInteger)  # amount_captured of the captured ones
    net: int = Field(default=0, sa_type=BigInteger)  # their net_amount
    fees: int = Field(default=0, sa_type=BigInteger)  # their platform + gateway fees
    refunds: int = Field(default=0, sa_type=BigInteger)  # booked (pending or succeeded)
    refunded: int = Field(default=0, sa_type=BigInteger)
    disputes: int = Field(default=0, sa_type=BigInteger)  # opened, whatever their outcome
    disputed: int = Field(default=0, sa_type=BigInteger)


class DashboardMethodTotal(SQLModel, table=True):
    """Captured payments per payment method and card brand (brand '' when there is none), for
    the dashboard's by-method chart."""

    __tablename__ = "dashboard_method_totals"
    __table_args__ = {"sqlite_with_rowid": False}

    merchant_id: str = Field(primary_key=True, max_length=40)
    livemode: bool = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    bucket_seconds: int = Field(primary_key=True)
    bucket_start: int = Field(primary_key=True, sa_type=BigInteger)
    method: str = Field(primary_key=True, max_length=16)
    brand: str = Field(primary_key=True, max_length=20)
    captured: int = Field(default=0, sa_type=BigInteger)
    gross: int = Field(default=0, sa_type=BigInteger)
