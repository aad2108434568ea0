"""payments.gateway_config_id, the processor configuration that took each payment, and a
partial index of the payments the risk rules flagged or blocked.

Captures, voids and refunds go back through the configuration (its credentials and price) that
took the payment, even after a merchant adds another configuration of the same gateway or
disables this one. Existing payments keep a null and are routed as before (the gateway's
first configuration, or the platform's default).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_payments_gateway_config_id_gateway_configs"
FLAGGED = "risk_decision IN ('review', 'block')"
CONFIGURED = "gateway_config_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "gateway_config_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.create_foreign_key(FK, "gateway_configs", ["gateway_config_id"], ["id"])
    op.create_index(
        "ix_payments_gateway_config",
        "payments",
        ["gateway_config_id"],
        sqlite_where=sa.text(CONFIGURED),
        postgresql_where=sa.text(CONFIGURED),
    )
    op.create_index(
        "ix_payments_merchant_flagged_created",
        "payments",
        ["merchant_id", "livemode", "created_at"],
        sqlite_where=sa.text(FLAGGED),
        postgresql_where=sa.text(FLAGGED),
    )


def downgrade() -> None:
    op.drop_index("ix_payments_gateway_config", table_name="payments")
    op.drop_index("ix_payments_merchant_flagged_created", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.drop_column("gateway_config_id")
