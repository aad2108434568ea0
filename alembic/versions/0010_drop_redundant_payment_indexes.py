"""Payments indexes for the charge path: three dropped, the three velocity indexes covering.

- ix_payments_customer_id (customer_id): a prefix of ix_payments_customer_created.
- ix_payments_merchant_email (merchant_id, customer_email) and ix_payments_merchant_last4
  (merchant_id, card_last4): every search filters on the mode too, and is served by
  ix_payments_merchant_email_created and ix_payments_merchant_last4_created (0009).
- ix_payments_{fingerprint,email,ip}_created gain livemode and merchant_id, the other columns
  the risk rules' capped counts filter on: a count reads the index alone, never the rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 07:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


VELOCITY = {
    "ix_payments_fingerprint_created": "card_fingerprint",
    "ix_payments_email_created": "customer_email",
    "ix_payments_ip_created": "ip_address",
}


def upgrade() -> None:
    op.drop_index("ix_payments_customer_id", table_name="payments")
    op.drop_index("ix_payments_merchant_email", table_name="payments")
    op.drop_index("ix_payments_merchant_last4", table_name="payments")
    for name, column in VELOCITY.items():
        op.drop_index(name, table_name="payments")
        op.create_index(name, "payments", [column, "created_at", "livemode", "merchant_id"])


def downgrade() -> None:
    for name, column in VELOCITY.items():
        op.drop_index(name, table_name="payments")
        op.create_index(name, "payments", [column, "created_at"])
    op.create_index("ix_payments_merchant_last4", "payments", ["merchant_id", "card_last4"])
    op.create_index("ix_payments_merchant_email", "payments", ["merchant_id", "customer_email"])
    op.create_index("ix_payments_customer_id", "payments", ["customer_id"])
