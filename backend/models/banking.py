"""The bank account a merchant's payouts go to, verified through Plaid (or its sandbox twin)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow

CURRENT = "removed_at IS NULL"


class BankAccount(SQLModel, table=True):
    """One connected account. A merchant has at most one current account (removed_at null); a
    replaced or removed one stays, without its access token, for the audit trail."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        Index(
            "uq_bank_accounts_current",
            "merchant_id",
            unique=True,
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        ),
        # A Plaid item's account is linked once: a replayed public token cannot link it again.
        UniqueConstraint("provider", "provider_item_id", "provider_account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    provider: str = Field(max_length=16)  # "plaid" or "sandbox"
    provider_item_id: str = Field(max_length=100)
    provider_account_id: str = Field(max_length=100)
    institution_name: str = Field(max_length=200)
    account_name: str = Field(max_length=200)
    mask: str = Field(max_length=8)  # the account number's last digits
    subtype: str = Field(max_length=20)  # checking or savings
    routing_number: str = Field(max_length=9)
    account_number_encrypted: str = Field(max_length=500)
    # Plaid's access token to the item, encrypted; dropped when the account is replaced.
    access_token_encrypted: str | None = Field(default=None, max_length=500)
    verified_at: datetime = Field(sa_type=UTCDateTime)
    verified_by: str = Field(foreign_key="users.id", max_length=40)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
