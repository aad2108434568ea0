"""Portal: dispute evidence files and responses, notification preferences, reporting indexes.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-23 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (sqlmodel.sql.sqltypes.AutoString)

import backend.models.types  # noqa: F401  (backend.models.types.UTCDateTime)
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString
UTCDateTime = backend.models.types.UTCDateTime

DASHBOARD_COLUMNS = [
    "status",
    "amount_captured",
    "amount_refunded",
    "platform_fee",
    "gateway_fee",
    "net_amount",
    "payment_method_type",
    "card_brand",
]


def upgrade() -> None:
    op.create_table(
        "dispute_evidence_files",
        sa.Column("id", AutoString(length=40), nullable=False),
        sa.Column("merchant_id", AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("dispute_id", AutoString(length=40), nullable=False),
        sa.Column("filename", AutoString(length=255), nullable=False),
        sa.Column("content_type", AutoString(length=40), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", AutoString(length=64), nullable=False),
        sa.Column("storage_name", AutoString(length=80), nullable=False),
        sa.Column("uploaded_by_user_id", AutoString(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_evidence_files_dispute_id_disputes")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_dispute_evidence_files_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_dispute_evidence_files_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_evidence_files")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_dispute_evidence_files_storage_name")),
    )
    op.create_index(
        "ix_evidence_files_dispute_created",
        "dispute_evidence_files",
        ["dispute_id", "created_at"],
    )
    op.create_table(
        "dispute_responses",
        sa.Column("id", AutoString(length=40), nullable=False),
        sa.Column("merchant_id", AutoString(length=40), nullable=False),
        sa.Column("dispute_id", AutoString(length=40), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_by_user_id", AutoString(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_responses_dispute_id_disputes")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_dispute_responses_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_dispute_responses_submitted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_responses")),
        sa.UniqueConstraint("dispute_id", name=op.f("uq_dispute_responses_dispute_id")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", AutoString(length=40), nullable=False),
        sa.Column("merchant_id", AutoString(length=40), nullable=False),
        sa.Column("user_id", AutoString(length=40), nullable=False),
        sa.Column("dispute_created", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("dispute_due_soon", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("refund_failed", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_notification_preferences_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("merchant_id", "user_id", name="uq_notification_preference"),
    )

    op.create_index(
        "ix_payments_merchant_currency_created",
        "payments",
        ["merchant_id", "livemode", "currency", "created_at"],
        postgresql_include=DASHBOARD_COLUMNS,
    )
    op.create_index(
        "ix_payments_merchant_email_created",
        "payments",
        ["merchant_id", "livemode", "customer_email", "created_at"],
    )
    op.create_index(
        "ix_payments_merchant_last4_created",
        "payments",
        ["merchant_id", "livemode", "card_last4", "created_at"],
    )
    op.create_index(
        "ix_payments_merchant_amount_created",
        "payments",
        ["merchant_id", "livemode", "amount", "created_at"],
    )
    op.create_index("ix_payments_customer_created", "payments", ["customer_id", "created_at"])
    op.create_index(
        "ix_customers_merchant_name", "customers", ["merchant_id", "livemode", "name"]
    )
    op.create_index(
        "ix_disputes_merchant_due", "disputes", ["merchant_id", "livemode", "evidence_due_by"]
    )


def downgrade() -> None:
    op.drop_index("ix_disputes_merchant_due", table_name="disputes")
    op.drop_index("ix_customers_merchant_name", table_name="customers")
    op.drop_index("ix_payments_customer_created", table_name="payments")
    op.drop_index("ix_payments_merchant_amount_created", table_name="payments")
    op.drop_index("ix_payments_merchant_last4_created", table_name="payments")
    op.drop_index("ix_payments_merchant_email_created", table_name="payments")
    op.drop_index("ix_payments_merchant_currency_created", table_name="payments")
    op.drop_table("notification_preferences")
    op.drop_table("dispute_responses")
    op.drop_index("ix_evidence_files_dispute_created", table_name="dispute_evidence_files")
    op.drop_table("dispute_evidence_files")
