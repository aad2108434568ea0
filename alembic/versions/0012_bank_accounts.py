"""bank_accounts: the payout bank account each merchant connects through Plaid.

At most one current account per merchant (a partial unique index on removed_at IS NULL); a
Plaid item's account can be linked once (a replayed public token is refused).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "removed_at IS NULL"


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("id", _text(40), nullable=False),
        sa.Column("merchant_id", _text(40), nullable=False),
        sa.Column("provider", _text(16), nullable=False),
        sa.Column("provider_item_id", _text(100), nullable=False),
        sa.Column("provider_account_id", _text(100), nullable=False),
        sa.Column("institution_name", _text(200), nullable=False),
        sa.Column("account_name", _text(200), nullable=False),
        sa.Column("mask", _text(8), nullable=False),
        sa.Column("subtype", _text(20), nullable=False),
        sa.Column("routing_number", _text(9), nullable=False),
        sa.Column("account_number_encrypted", _text(500), nullable=False),
        sa.Column("access_token_encrypted", _text(500), nullable=True),
        sa.Column("verified_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.Column("verified_by", _text(40), nullable=False),
        sa.Column("removed_at", backend.models.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", backend.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_bank_accounts_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["users.id"], name=op.f("fk_bank_accounts_verified_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint(
            "provider",
            "provider_item_id",
            "provider_account_id",
            name=op.f("uq_bank_accounts_provider"),
        ),
    )
    op.create_index(
        "uq_bank_accounts_current",
        "bank_accounts",
        ["merchant_id"],
        unique=True,
        sqlite_where=sa.text(CURRENT),
        postgresql_where=sa.text(CURRENT),
    )


def downgrade() -> None:
    op.drop_index("uq_bank_accounts_current", table_name="bank_accounts")
    op.drop_table("bank_accounts")
