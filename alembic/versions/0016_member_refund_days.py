"""member_refund_days: what each team member refunded per day, so that the support refund limit
and the step-up threshold apply to the day's running total (a refund cannot be sliced round
them). One row per merchant, mode, member, local day and currency, locked while a refund is
decided.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "member_refund_days",
        sa.Column("merchant_id", _text(40), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("user_id", _text(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", _text(3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_member_refund_days_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_member_refund_days_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "merchant_id",
            "livemode",
            "user_id",
            "day",
            "currency",
            name=op.f("pk_member_refund_days"),
        ),
    )


def downgrade() -> None:
    op.drop_table("member_refund_days")
