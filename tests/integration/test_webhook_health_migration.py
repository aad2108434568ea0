"""Migration 0015 on SQLite and PostgreSQL: existing endpoints get their health (last success,
failed attempts since) from the deliveries and attempts already logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection, Engine

from tests.integration import test_migrations as base

database_url, engine, alembic_config = base.database_url, base.engine, base.alembic_config
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def insert(conn: Connection, table: str, **values: Any) -> None:
    """A row with the given values; every other required column gets a plain filler."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        python_type = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        row[column.name] = {
            str: "x",
            int: 0,
            bool: False,
            dict: {},
            list: [],
            datetime: T0,
        }.get(python_type, "x")
    conn.execute(reflected.insert().values(**row))


def test_existing_endpoints_get_their_health_from_their_log(database_url: str, engine: Engine):
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "0015-1")  # the revision before this one, however they are chained
    with engine.begin() as conn:
        insert(conn, "merchants", id="mer_1", name="Shop", fee_tier_id="starter")  # seeded
        for endpoint, failing_since in (("we_ok", None), ("we_bad", T0 + timedelta(hours=2))):
            insert(
                conn,
                "webhook_endpoints",
                id=endpoint,
                merchant_id="mer_1",
                url="https://hooks.example.com/",
                secret_encrypted="x",
                enabled_events=["*"],
                failing_since=failing_since,
            )
        attempts = {  # endpoint: [(attempted at, status code)], one delivery each
            "we_ok": [(T0, 500), (T0 + timedelta(hours=1), 200)],
            "we_bad": [
                (T0, None),
                (T0 + timedelta(hours=1), 204),
                (T0 + timedelta(hours=2), 500),
                (T0 + timedelta(hours=3), None),
            ],
        }
        for endpoint, tries in attempts.items():
            for n, (at, code) in enumerate(tries):
                name = f"{endpoint}_{n}"
                ok = code is not None and code < 300
                insert(conn, "events", id=f"evt_{name}", merchant_id="mer_1", type="payment.paid")
                insert(
                    conn,
                    "webhook_deliveries",
                    id=f"whd_{name}",
                    merchant_id="mer_1",
                    endpoint_id=endpoint,
                    event_id=f"evt_{name}",
                    status="succeeded" if ok else "failed",
                    delivered_at=at if ok else None,
                )
                insert(
                    conn,
                    "webhook_delivery_attempts",
                    id=f"wha_{name}",
                    delivery_id=f"whd_{name}",
                    attempted_at=at,
                    status_code=code,
                )
    command.upgrade(cfg, "0015")
    with engine.connect() as conn:
        health = {
            row.id: (row.consecutive_failures, row.last_success_at)
            for row in conn.execute(
                sa.text("SELECT id, consecutive_failures, last_success_at FROM webhook_endpoints")
            )
        }
    assert health["we_ok"][0] == 0  # not failing
    assert health["we_bad"][0] == 2  # the two failed attempts after its last success
    for endpoint in ("we_ok", "we_bad"):
        last = health[endpoint][1]
        assert last is not None and str(last).startswith("2026-03-01 13:00")
    command.downgrade(cfg, "0015-1")  # and back
