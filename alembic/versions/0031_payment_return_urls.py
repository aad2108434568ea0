"""payment return urls: where a payment made through the API that waits for its buyer
(PayPal's approval) sends the buyer back, and the buyer's answer on our own test approval page.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 01:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("return_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True)
        )
        batch.add_column(
            sa.Column("cancel_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True)
        )
        batch.add_column(sa.Column("buyer_approved", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("buyer_approved")
        batch.drop_column("cancel_url")
        batch.drop_column("return_url")
