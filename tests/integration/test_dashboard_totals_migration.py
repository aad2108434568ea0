"""Migration 0022 on SQLite and PostgreSQL: the totals are summed from the payments, refunds
and disputes already there, and summing them again (the backfill run twice) changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from backend.services.payments import totals
from tests.integration import test_migrations as base
from tests.integration.test_webhook_health_migration import insert

database_url, engine, alembic_config = base.database_url, base.engine, base.alembic_config
T0 = datetime(2026, 3, 1, 12, 7, tzinfo=UTC)  # 12:00 quarter, 12:00 hour, 1 March


def rows(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table: [
                tuple(r)
                for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5"))
            ]
            for table in ("dashboard_totals", "dashboard_method_totals")
        }


def test_existing_history_is_summed_once(database_url: str, engine: Engine) -> None:
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "0022-1")  # the revision before this one, however they are chained
    with engine.begin() as conn:
        insert(conn, "merchants", id="mer_1", name="Shop", fee_tier_id="starter")
        payments = [  # id, status, captured, net, platform fee, brand, created
            ("pay_1", "succeeded", 1_000, 941, 30, "visa", T0),
            ("pay_2", "refunded", 2_000, 0, 0, "visa", T0 + timedelta(minutes=5)),
            ("pay_3", "failed", 0, 0, 0, None, T0 + timedelta(hours=1)),
            ("pay_4", "authorized", 0, 0, 0, "amex", T0 + timedelta(days=1)),
        ]
        for pid, status, captured, net, fee, brand, at in payments:
            insert(
                conn,
                "payments",
                id=pid,
                merchant_id="mer_1",
                livemode=False,
                status=status,
                currency="USD",
                amount=max(captured, 500),
                amount_captured=captured,
                net_amount=net,
                platform_fee=fee,
                gateway_fee=29 if captured else 0,
                payment_method_type="card",
                card_brand=brand,
                created_at=at,
                updated_at=at,
            )
        for rid, status in (("re_1", "succeeded"), ("re_2", "failed")):
            insert(
                conn,
                "refunds",
                id=rid,
                merchant_id="mer_1",
                livemode=False,
                payment_id="pay_2",
                amount=2_000,
                currency="USD",
                status=status,
                created_at=T0 + timedelta(days=2),
                updated_at=T0,
            )
        insert(
            conn,
            "disputes",
            id="dp_1",
            merchant_id="mer_1",
            livemode=False,
            payment_id="pay_1",
            amount=1_000,
            currency="USD",
            status="lost",
            evidence_due_by=T0,
            created_at=T0 + timedelta(days=2),
            updated_at=T0,
        )
    command.upgrade(cfg, "0022")
    found = rows(engine)
    day = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    noon = day + 12 * 3600
    by_cell = {(r[3], r[4]): r[5:] for r in found["dashboard_totals"]}
    # payments successful failed captured gross net fees refunds refunded disputes disputed
    assert by_cell[(86_400, day)] == (3, 2, 1, 2, 3_000, 941, 30 + 29 + 29, 0, 0, 0, 0)
    assert by_cell[(86_400, day + 86_400)] == (1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert by_cell[(900, noon)] == (2, 2, 0, 2, 3_000, 941, 88, 0, 0, 0, 0)
    assert by_cell[(3_600, noon + 3_600)] == (1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    assert by_cell[(86_400, day + 2 * 86_400)] == (0, 0, 0, 0, 0, 0, 0, 1, 2_000, 1, 1_000)
    methods = {(r[3], r[4], r[6]): r[7:] for r in found["dashboard_method_totals"]}
    assert methods == {(s, noon - noon % s, "visa"): (2, 3_000) for s in (900, 3_600, 86_400)}
    with engine.begin() as conn:
        totals.rebuild(conn)  # the backfill again
    assert rows(engine) == found
    command.downgrade(cfg, "0022-1")  # and back
    assert "dashboard_totals" not in sa.inspect(engine).get_table_names()
