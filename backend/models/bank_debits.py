"""Bank debits (ACH): the account a payment debited, the customer's mandate, and a return."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class BankDebit(SQLModel, table=True):
    """One per bank payment, written with it: what the customer agreed to (the mandate's text
    as shown, when, from which address and browser), the account (bank name, last four digits:
    never the number), and the bank's return once it comes (ACH code, when)."""

    __tablename__ = "bank_debits"

    payment_id: str = Field(primary_key=True, foreign_key="payments.id", max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", index=True, max_length=40)
    livemode: bool = False
    bank_name: str = Field(max_length=100)
    last4: str = Field(max_length=4)
    account_type: str | None = Field(default=None, max_length=16)
    mandate_text: str = Field(max_length=2000)
    mandate_language: str = Field(default="en", max_length=8)
    mandate_accepted_at: datetime = Field(sa_type=UTCDateTime)
    mandate_ip_address: str = Field(max_length=64)
    mandate_user_agent: str = Field(max_length=500)
    gateway_mandate_id: str | None = Field(default=None, max_length=255)
    # Until when the bank settle job asks the processor about this debit (sandbox debits, whose
    # outcome no webhook brings); None once nothing more can happen or events bring it.
    poll_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    return_code: str | None = Field(default=None, max_length=8)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    return_fee: int | None = Field(default=None, sa_type=BigInteger)  # charged to the merchant
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
