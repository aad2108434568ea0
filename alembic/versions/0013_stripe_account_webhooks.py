"""inbound_webhook_events.provider widens to 64 characters: "stripe:<gateway config id>" names
the merchant's own Stripe account an event came from (its processor's signing secret verified
it), so event ids are unique per Stripe account and such events touch only that processor's
payments.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:00:00

"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_webhook_events", schema=None) as batch_op:
        batch_op.alter_column(
            "provider",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Events of merchants' own accounts do not fit the old width: they go with the downgrade.
    op.execute("DELETE FROM inbound_webhook_events WHERE provider <> 'stripe'")
    with op.batch_alter_table("inbound_webhook_events", schema=None) as batch_op:
        batch_op.alter_column(
            "provider",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )
