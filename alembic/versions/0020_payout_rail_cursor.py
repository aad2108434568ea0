"""payout_rail_cursor: how far each payout rail's event feed has been read, so the sync job
resumes after the last event it applied.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 06:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_rail_cursors",
        sa.Column("rail", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rail", name=op.f("pk_payout_rail_cursors")),
    )


def downgrade() -> None:
    op.drop_table("payout_rail_cursors")
