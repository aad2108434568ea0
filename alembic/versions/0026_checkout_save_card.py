"""checkout_save_card: a checkout session may offer "save this card for future payments"
(issue 19).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 20:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkout_sessions") as batch:
        batch.add_column(
            sa.Column(
                "save_payment_method", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("checkout_sessions") as batch:
        batch.drop_column("save_payment_method")
