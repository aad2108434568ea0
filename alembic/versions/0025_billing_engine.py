"""billing_engine: subscriptions and their items, invoices and their lines, the merchant's
billing settings and invoice numbers, billing portal sessions, and customers on test clocks
(issue 19).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 20:41:33.073307

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_settings",
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("retry_days", sa.JSON(), nullable=False),
        sa.Column("dunning_end", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("portal_allows_cancel", sa.Boolean(), nullable=False),
        sa.Column("invoice_prefix", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_billing_settings_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_billing_settings")),
    )
    op.create_table(
        "invoice_sequences",
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_invoice_sequences_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("merchant_id", "livemode", name=op.f("pk_invoice_sequences")),
    )
    op.create_table(
        "billing_portal_sessions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("return_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_billing_portal_sessions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_billing_portal_sessions_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_portal_sessions")),
        sa.UniqueConstraint("secret_hash", name="one_secret"),
    )
    with op.batch_alter_table("billing_portal_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_portal_sessions_customer", ["customer_id", "created_at"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("test_clock_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column(
            "default_payment_method_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
        ),
        sa.Column("billing_cycle_anchor", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("current_period_start", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("current_period_end", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("trial_start", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("trial_end", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("trial_will_end_sent", sa.Boolean(), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("canceled_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("ended_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column(
            "cancellation_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column("pause_behavior", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("pause_resumes_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("latest_invoice_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("next_action_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_subscriptions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_subscriptions_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["test_clock_id"],
            ["test_clocks.id"],
            name=op.f("fk_subscriptions_test_clock_id_test_clocks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscriptions_customer", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_subscriptions_due", ["test_clock_id", "next_action_at"], unique=False
        )
        batch_op.create_index(
            "ix_subscriptions_merchant_created",
            ["merchant_id", "livemode", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "subscription_items",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("price_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_subscription_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["price_id"], ["prices.id"], name=op.f("fk_subscription_items_price_id_prices")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_items_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_items")),
        sa.UniqueConstraint("subscription_id", "price_id", name="one_item_per_price"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("test_clock_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("billing_reason", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_payment_attempt", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("first_failed_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("payment_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("last_failure_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "last_failure_message", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
        ),
        sa.Column("period_start", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("period_end", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("customer_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("customer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("finalized_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("paid_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("voided_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("marked_uncollectible_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "amount_paid >= 0 AND amount_due >= 0", name=op.f("ck_invoices_amounts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_invoices_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_invoices_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_invoices_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["test_clock_id"],
            ["test_clocks.id"],
            name=op.f("fk_invoices_test_clock_id_test_clocks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("merchant_id", "livemode", "number", name="number_per_merchant"),
        sa.UniqueConstraint("period_key", name="one_invoice_per_period"),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_invoices_merchant_created",
            ["merchant_id", "livemode", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_invoices_retry", ["test_clock_id", "next_payment_attempt"], unique=False
        )
        batch_op.create_index(
            "ix_invoices_subscription", ["subscription_id", "created_at"], unique=False
        )

    op.create_table(
        "invoice_lines",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("invoice_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("price_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("unit_amount", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("proration", sa.Boolean(), nullable=False),
        sa.Column("period_start", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("period_end", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_invoice_lines_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["price_id"], ["prices.id"], name=op.f("fk_invoice_lines_price_id_prices")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_invoice_lines_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoice_lines_invoice", ["invoice_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_invoice_lines_pending", ["subscription_id", "invoice_id"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("test_clock_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_test_clock_id_test_clocks"),
            "test_clocks",
            ["test_clock_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_customers_test_clock_id_test_clocks"), type_="foreignkey"
        )
        batch_op.drop_column("test_clock_id")

    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_pending")
        batch_op.drop_index("ix_invoice_lines_invoice")

    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_subscription")
        batch_op.drop_index("ix_invoices_retry")
        batch_op.drop_index("ix_invoices_merchant_created")
        batch_op.drop_index("ix_invoices_customer")

    op.drop_table("invoices")
    op.drop_table("subscription_items")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_merchant_created")
        batch_op.drop_index("ix_subscriptions_due")
        batch_op.drop_index("ix_subscriptions_customer")

    op.drop_table("subscriptions")
    with op.batch_alter_table("billing_portal_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_portal_sessions_customer")

    op.drop_table("billing_portal_sessions")
    op.drop_table("invoice_sequences")
    op.drop_table("billing_settings")
