"""Refund limits on merchants (support's ceiling, step-up threshold); step-up time on sessions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from backend.models.types import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(
            sa.Column("support_refund_limit", sa.BigInteger(), server_default="10000", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "step_up_refund_threshold", sa.BigInteger(), server_default="50000", nullable=False
            )
        )
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("step_up_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("step_up_at")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("step_up_refund_threshold")
        batch.drop_column("support_refund_limit")
