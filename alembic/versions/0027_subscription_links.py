"""subscription_links: a payment link may sell a recurring price, subscribing whoever pays it
(issue 19).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 21:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_links") as batch:
        batch.add_column(
            sa.Column("price_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch.create_foreign_key(
            batch.f("fk_payment_links_price_id_prices"), "prices", ["price_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_links") as batch:
        batch.drop_constraint(batch.f("fk_payment_links_price_id_prices"), type_="foreignkey")
        batch.drop_column("price_id")
