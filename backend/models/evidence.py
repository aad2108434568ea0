"""A merchant's answer to a dispute: the files it uploads and its written explanation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Text
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class DisputeEvidenceFile(SQLModel, table=True):
    """One uploaded file. Stored under a random name in the private uploads folder; the name
    the merchant gave it is kept only to show and to name the download."""

    __tablename__ = "dispute_evidence_files"
    __table_args__ = (Index("ix_evidence_files_dispute_created", "dispute_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    dispute_id: str = Field(foreign_key="disputes.id", max_length=40)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=40)  # sniffed from the bytes, never the browser's word
    size_bytes: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    storage_name: str = Field(max_length=80, unique=True)
    uploaded_by_user_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DisputeResponse(SQLModel, table=True):
    """The merchant's written explanation, a draft until it is submitted with the files."""

    __tablename__ = "dispute_responses"

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    dispute_id: str = Field(foreign_key="disputes.id", unique=True, max_length=40)
    explanation: str = Field(default="", sa_type=Text)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_by_user_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
