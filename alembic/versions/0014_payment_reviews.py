"""payments.reviewed_at, reviewed_by and review_outcome: closing the review of a payment the
risk rules flagged (approved or fraudulent), by whom and when.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewed_at", backend.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "review_outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("review_outcome")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
