"""E-mail outbox, gateway sync times on money objects, work leases on webhook queues.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:21:39.523300

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)

import backend.models.types  # noqa: F401  (autogenerate renders backend.models.types.UTCDateTime)
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_emails",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("to_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "provider_message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_outbound_emails_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
    )
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbound_emails_merchant_created", ["merchant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_outbound_emails_to_created", ["to_email", "created_at"], unique=False
        )

    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gateway_synced_at", backend.models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("inbound_webhook_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked_until", backend.models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gateway_synced_at", backend.models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gateway_synced_at", backend.models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked_until", backend.models.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("locked_until")

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("gateway_synced_at")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("gateway_synced_at")

    with op.batch_alter_table("inbound_webhook_events", schema=None) as batch_op:
        batch_op.drop_column("locked_until")

    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_column("gateway_synced_at")

    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_emails_to_created")
        batch_op.drop_index("ix_outbound_emails_merchant_created")

    op.drop_table("outbound_emails")
