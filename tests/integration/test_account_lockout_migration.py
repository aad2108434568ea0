"""Migration 0018 on SQLite and PostgreSQL: the per-account lock columns go, and sessions opened
while the token sat in a script-readable cookie are signed out once; downgrade restores them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from tests.integration import test_migrations as base
from tests.integration.test_webhook_health_migration import T0, insert

database_url, engine, alembic_config = base.database_url, base.engine, base.alembic_config


def test_lock_columns_go_and_open_sessions_are_signed_out(database_url: str, engine: Engine):
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "0018-1")  # the revision before this one, however they are chained
    with engine.begin() as conn:
        insert(conn, "merchants", id="mer_1", name="Shop", fee_tier_id="starter")
        insert(conn, "users", id="usr_1", email="a@shop.test", failed_login_count=3)
        for session_id, revoked_at in (("ses_open", None), ("ses_done", T0)):
            insert(
                conn,
                "user_sessions",
                id=session_id,
                token_digest=session_id,
                user_id="usr_1",
                merchant_id="mer_1",
                expires_at=T0 + timedelta(days=1),
                revoked_at=revoked_at,
            )
    command.upgrade(cfg, "0018")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
        revoked = dict(conn.execute(sa.text("SELECT id, revoked_at FROM user_sessions")).all())
    assert not {"failed_login_count", "locked_until"} & columns
    assert revoked["ses_open"] is not None
    assert str(revoked["ses_done"]).startswith("2026-03-01 12:00:00")  # left as it was
    command.downgrade(cfg, "0018-1")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
    assert {"failed_login_count", "locked_until"} <= columns
