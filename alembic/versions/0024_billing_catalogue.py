"""billing_catalogue: products, their prices (immutable but for active, nickname and metadata)
and test clocks (test mode only), the foundations of recurring billing (issue 19).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-08 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, backend.models.types.UTCDateTime(), nullable=nullable)


def _owner(table: str) -> list[sa.Column | sa.Constraint]:
    """id, merchant and mode, and the merchant's foreign key."""
    return [
        _string("id", 40),
        _string("merchant_id", 40),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f(f"fk_{table}_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _newest_first(table: str) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.create_index(
            f"ix_{table}_merchant_created", ["merchant_id", "livemode", "created_at", "id"]
        )


def upgrade() -> None:
    op.create_table(
        "products",
        *_owner("products"),
        _string("name", 250),
        _string("description", 1000, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
    )
    _newest_first("products")

    op.create_table(
        "prices",
        *_owner("prices"),
        _string("product_id", 40),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        _string("currency", 3),
        _string("type", 16),
        _string("recurring_interval", 8, nullable=True),
        sa.Column("recurring_interval_count", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _string("nickname", 250, nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_prices_product_id_products")
        ),
        sa.CheckConstraint("unit_amount >= 0", name=op.f("ck_prices_unit_amount_not_negative")),
        sa.CheckConstraint(
            "(type = 'recurring' AND recurring_interval IS NOT NULL"
            " AND recurring_interval_count >= 1)"
            " OR (type = 'one_time' AND recurring_interval IS NULL"
            " AND recurring_interval_count IS NULL)",
            name=op.f("ck_prices_recurring_shape"),
        ),
    )
    _newest_first("prices")
    with op.batch_alter_table("prices") as batch_op:
        batch_op.create_index("ix_prices_product", ["product_id", "created_at"])

    op.create_table(
        "test_clocks",
        *_owner("test_clocks"),
        _string("name", 300, nullable=True),
        _time("frozen_time"),
        _string("status", 16),
        _time("created_at"),
        _time("updated_at"),
        _time("deleted_at", nullable=True),
        sa.CheckConstraint("NOT livemode", name=op.f("ck_test_clocks_test_mode_only")),
    )
    _newest_first("test_clocks")


def downgrade() -> None:
    for table in ("test_clocks", "prices", "products"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_merchant_created")
            if table == "prices":
                batch_op.drop_index("ix_prices_product")
        op.drop_table(table)
