"""routing_health: cost routing with pinned processors, why each route was chosen, and a
circuit breaker per processor account and mode shared by every worker (issue 20).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 22:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_configs") as batch:
        batch.add_column(
            sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("payment_attempts") as batch:
        batch.add_column(
            sa.Column("route_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
    op.create_table(
        "processor_circuits",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("processor_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("opened_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("trial_started_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("last_error_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_circuits")),
    )


def downgrade() -> None:
    op.drop_table("processor_circuits")
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_column("route_reason")
    with op.batch_alter_table("gateway_configs") as batch:
        batch.drop_column("pinned")
