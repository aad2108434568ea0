"""dashboard_totals and dashboard_method_totals: the dashboard's running totals per merchant,
mode, currency and UTC bucket (quarter hour, hour, day), kept by the booking path from now on
(backend/services/payments/totals.py), so the dashboard stops reading every payment of its
range.

Existing payments, refunds and disputes are summed into them here with totals.rebuild, which
deletes before it sums: running the backfill again gives the same rows.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> list[sa.Column]:
    return [
        sa.Column("merchant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("bucket_seconds", sa.Integer(), nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    ]


def _figures(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


KEY = ["merchant_id", "livemode", "currency", "bucket_seconds", "bucket_start"]


def upgrade() -> None:
    op.create_table(
        "dashboard_totals",
        *_key(),
        *_figures(
            "payments",
            "successful",
            "failed",
            "captured",
            "gross",
            "net",
            "fees",
            "refunds",
            "refunded",
            "disputes",
            "disputed",
        ),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_dashboard_totals")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "dashboard_method_totals",
        *_key(),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        *_figures("captured", "gross"),
        sa.PrimaryKeyConstraint(*KEY, "method", "brand", name=op.f("pk_dashboard_method_totals")),
        sqlite_with_rowid=False,
    )
    backfill()


def backfill() -> None:
    """Every merchant's totals from their raw rows (idempotent: rebuild deletes first)."""
    from backend.services.payments import totals

    totals.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("dashboard_method_totals")
    op.drop_table("dashboard_totals")
