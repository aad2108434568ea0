"""bank_debits: bank (ACH) payments' mandates, debited accounts and returns (issue 20).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 00:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "bank_debits",
        sa.Column("payment_id", _text(length=40), nullable=False),
        sa.Column("merchant_id", _text(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("bank_name", _text(length=100), nullable=False),
        sa.Column("last4", _text(length=4), nullable=False),
        sa.Column("account_type", _text(length=16), nullable=True),
        sa.Column("mandate_text", _text(length=2000), nullable=False),
        sa.Column("mandate_language", _text(length=8), nullable=False),
        sa.Column("mandate_accepted_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("mandate_ip_address", _text(length=64), nullable=False),
        sa.Column("mandate_user_agent", _text(length=500), nullable=False),
        sa.Column("gateway_mandate_id", _text(length=255), nullable=True),
        sa.Column("poll_until", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("return_code", _text(length=8), nullable=True),
        sa.Column("returned_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("return_fee", sa.BigInteger(), nullable=True),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_bank_debits_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_bank_debits_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_bank_debits")),
    )
    op.create_index(op.f("ix_bank_debits_merchant_id"), "bank_debits", ["merchant_id"])
    op.create_index(op.f("ix_bank_debits_poll_until"), "bank_debits", ["poll_until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_debits_poll_until"), table_name="bank_debits")
    op.drop_index(op.f("ix_bank_debits_merchant_id"), table_name="bank_debits")
    op.drop_table("bank_debits")
