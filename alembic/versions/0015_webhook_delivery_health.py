"""Webhook health and failure kinds: webhook_endpoints.consecutive_failures and last_success_at
(the endpoint list's health), webhook_deliveries.last_error_code and
webhook_delivery_attempts.error_code (why an attempt failed, which the portal and the API put
in plain words).

Existing endpoints get their last success from their deliveries and, when failing, the failed
attempts since then; older attempts keep no code and are read from their error text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_success_at", backend.models.types.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_error_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
    with op.batch_alter_table("webhook_delivery_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.execute(
        "UPDATE webhook_endpoints SET last_success_at = (SELECT max(d.delivered_at) "
        "FROM webhook_deliveries d WHERE d.endpoint_id = webhook_endpoints.id)"
    )
    op.execute(
        "UPDATE webhook_endpoints SET consecutive_failures = (SELECT count(*) "
        "FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
        "WHERE d.endpoint_id = webhook_endpoints.id "
        "AND (a.status_code IS NULL OR a.status_code < 200 OR a.status_code >= 300) "
        "AND (webhook_endpoints.last_success_at IS NULL "
        "OR a.attempted_at > webhook_endpoints.last_success_at)) "
        "WHERE failing_since IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery_attempts", schema=None) as batch_op:
        batch_op.drop_column("error_code")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_error_code")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("last_success_at")
        batch_op.drop_column("consecutive_failures")
