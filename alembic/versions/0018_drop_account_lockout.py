"""drop_account_lockout: users.failed_login_count and users.locked_until go. A per-account lock
let anyone shut the owner out by guessing wrong; failed sign-ins are now throttled per e-mail
and address pair (or known device) in backend/services/sessions.py.

Open sessions are signed out once: their tokens were set by JavaScript in a cookie any script
could read; from now on the cookie is HttpOnly (backend/api/routes/session_cookie.py).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-05 21:30:00

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import backend.models.types

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sessions = sa.table(
        "user_sessions", sa.column("revoked_at", backend.models.types.UTCDateTime())
    )
    op.execute(
        sessions.update()
        .where(sessions.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_login_count")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("failed_login_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("locked_until", backend.models.types.UTCDateTime(), nullable=True)
        )
