"""wallets: the wallet that tokenised a payment's card, and the domains registered with Stripe
for Apple Pay and Google Pay on the hosted checkout (issue 20).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 00:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("card_wallet", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.create_table(
        "payment_method_domains",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("domain_name", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "apple_pay_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column("apple_pay_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "google_pay_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column(
            "google_pay_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
        ),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("checked_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_method_domains")),
    )
    op.create_index(
        "uq_payment_method_domains_domain",
        "payment_method_domains",
        ["domain_name", "livemode"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_payment_method_domains_domain", table_name="payment_method_domains")
    op.drop_table("payment_method_domains")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("card_wallet")
