"""Customers become first-class (address, soft delete, a default saved method) and cards are
saved for them: payment_methods, one row per card saved at a processor (brand, last four,
expiry, fingerprint; never a number), with the processor's customer and payment method ids.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 18:13:04

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)

import backend.models.types  # noqa: F401  (autogenerate renders backend.models.types.UTCDateTime)
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("gateway", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("gateway_config_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "gateway_customer_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "gateway_payment_method_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("last4", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("authentication_required", sa.Boolean(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("detached_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payment_methods_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_config_id"],
            ["gateway_configs.id"],
            name=op.f("fk_payment_methods_gateway_config_id_gateway_configs"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_payment_methods_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_methods_customer_created", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_payment_methods_merchant_created",
            ["merchant_id", "livemode", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_line1", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("address_line2", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("address_city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column("address_state", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "address_postal_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("gateway_customer_ids", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "default_payment_method_id",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("deleted_at", backend.models.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("gateway_customer_ids")
        batch_op.drop_column("default_payment_method_id")
        batch_op.drop_column("address_postal_code")
        batch_op.drop_column("address_state")
        batch_op.drop_column("address_city")
        batch_op.drop_column("address_line2")
        batch_op.drop_column("address_line1")

    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_methods_merchant_created")
        batch_op.drop_index("ix_payment_methods_customer_created")

    op.drop_table("payment_methods")
