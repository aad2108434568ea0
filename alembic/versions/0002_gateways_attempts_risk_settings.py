"""Gateway routing, payment attempts, the blocklist and merchants' risk and refund settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:51:43.355289

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)

import backend.models.types  # noqa: F401  (autogenerate renders backend.models.types.UTCDateTime)
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocklist_entries",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_blocklist_entries_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocklist_entries")),
    )
    with op.batch_alter_table("blocklist_entries", schema=None) as batch_op:
        batch_op.create_index("uq_blocklist_entry", ["merchant_id", "kind", "value"], unique=True)

    op.create_table(
        "gateway_configs",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("gateway", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "credentials_encrypted", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column("currencies", sa.JSON(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), nullable=True),
        sa.Column("max_amount", sa.BigInteger(), nullable=True),
        sa.Column("fee_percent_pips", sa.Integer(), nullable=True),
        sa.Column("fee_fixed", sa.JSON(), nullable=True),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_gateway_configs_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_configs")),
    )
    with op.batch_alter_table("gateway_configs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gateway_configs_merchant", ["merchant_id", "livemode", "priority"], unique=False
        )

    op.create_table(
        "payment_attempts",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("payment_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("gateway", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_payment_attempts_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_attempts_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
    )
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_attempts_payment_id"), ["payment_id"], unique=False
        )

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refund_returns_platform_fee",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("risk_review_score", sa.Integer(), server_default="50", nullable=False)
        )
        batch_op.add_column(
            sa.Column("risk_block_score", sa.Integer(), server_default="80", nullable=False)
        )

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("billing_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True)
        )
        batch_op.add_column(
            sa.Column("ip_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(
            "ix_payments_email_created", ["customer_email", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_payments_fingerprint_created", ["card_fingerprint", "created_at"], unique=False
        )
        batch_op.create_index("ix_payments_ip_created", ["ip_address", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_ip_created")
        batch_op.drop_index("ix_payments_fingerprint_created")
        batch_op.drop_index("ix_payments_email_created")
        batch_op.drop_column("ip_address")
        batch_op.drop_column("billing_country")

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("risk_block_score")
        batch_op.drop_column("risk_review_score")
        batch_op.drop_column("refund_returns_platform_fee")

    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_attempts_payment_id"))

    op.drop_table("payment_attempts")
    with op.batch_alter_table("gateway_configs", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_configs_merchant")

    op.drop_table("gateway_configs")
    with op.batch_alter_table("blocklist_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_blocklist_entry")

    op.drop_table("blocklist_entries")
