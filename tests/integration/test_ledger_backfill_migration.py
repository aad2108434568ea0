"""Migration 0019 on SQLite and PostgreSQL: a history written before the ledger (payments of
every state, refunds booked, pending and failed, disputes open, won and lost, in two
currencies and two modes) is booked into it. Every journal balances, the balance transactions
add up to the balances, what the merchant holds is what its payments imply, and running the
backfill again books nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.services.ledger import backfill
from tests.integration import test_migrations as base
from tests.integration.test_webhook_health_migration import insert

database_url, engine, alembic_config = base.database_url, base.engine, base.alembic_config
T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

# id: (status, currency, livemode, captured, refunded, platform fee, gateway fee)
PAYMENTS = {
    "pay_ok": ("succeeded", "USD", False, 10_000, 0, 320, 320),
    "pay_part": ("partially_refunded", "USD", False, 20_000, 5_000, 580, 610),
    "pay_full": ("refunded", "EUR", False, 3_000, 3_000, 0, 120),
    "pay_won": ("succeeded", "USD", False, 8_000, 0, 262, 262),
    "pay_lost": ("disputed", "USD", False, 9_000, 0, 291, 291),
    "pay_open": ("disputed", "EUR", False, 4_000, 0, 141, 141),
    "pay_live": ("succeeded", "USD", True, 50_000, 0, 1_480, 1_480),
    "pay_failed": ("failed", "USD", False, 0, 0, 0, 0),
    "pay_auth": ("authorized", "USD", False, 0, 0, 0, 0),
}
# id: (payment, amount, status, platform fee handed back)
REFUNDS = {
    "re_1": ("pay_part", 3_000, "succeeded", 87),
    "re_2": ("pay_part", 2_000, "pending", 58),
    "re_3": ("pay_part", 1_000, "failed", 0),
    "re_4": ("pay_full", 3_000, "succeeded", 100),
}
# id: (payment, amount, status)
DISPUTES = {
    "dp_won": ("pay_won", 8_000, "won"),
    "dp_lost": ("pay_lost", 9_000, "lost"),
    "dp_open": ("pay_open", 4_000, "needs_response"),
}


def _history(conn: sa.Connection) -> None:
    insert(conn, "merchants", id="mer_1", name="Shop", fee_tier_id="starter")
    for n, (pid, (status, currency, live, captured, refunded, pfee, gfee)) in enumerate(
        PAYMENTS.items()
    ):
        at = T0 + timedelta(hours=n)
        insert(
            conn,
            "payments",
            id=pid,
            merchant_id="mer_1",
            livemode=live,
            status=status,
            currency=currency,
            amount=max(captured, 1_000),
            amount_captured=captured,
            amount_refunded=refunded,
            platform_fee=pfee,
            gateway_fee=gfee,
            net_amount=captured - refunded - pfee - gfee,
            gateway="sandbox",
            created_at=at,
            updated_at=at,
            captured_at=at if captured else None,
        )
    for n, (rid, (pid, amount, status, back)) in enumerate(REFUNDS.items()):
        at = T0 + timedelta(days=1, hours=n)
        insert(
            conn,
            "refunds",
            id=rid,
            merchant_id="mer_1",
            payment_id=pid,
            amount=amount,
            currency=PAYMENTS[pid][1],
            status=status,
            platform_fee_refunded=back,
            created_at=at,
            updated_at=at,
        )
    for n, (did, (pid, amount, status)) in enumerate(DISPUTES.items()):
        at = T0 + timedelta(days=2, hours=n)
        insert(
            conn,
            "disputes",
            id=did,
            merchant_id="mer_1",
            payment_id=pid,
            amount=amount,
            currency=PAYMENTS[pid][1],
            status=status,
            reason="fraudulent",
            created_at=at,
            updated_at=at,
            closed_at=at + timedelta(days=5) if status in ("won", "lost") else None,
        )


def _scalar(conn: sa.Connection, sql: str, **params: object) -> int:
    return int(conn.execute(sa.text(sql), params).scalar() or 0)


def test_the_history_is_booked_into_the_ledger_once(database_url: str, engine: Engine) -> None:
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "0019-1")
    with engine.begin() as conn:
        _history(conn)
    command.upgrade(cfg, "0019")
    with engine.connect() as conn:
        unbalanced = conn.execute(
            sa.text(
                "SELECT journal_id FROM ledger_entries GROUP BY journal_id HAVING SUM(amount) <> 0"
            )
        ).all()
        assert unbalanced == []
        captured = {
            row[0]
            for row in conn.execute(
                sa.text("SELECT source_id FROM ledger_journals WHERE kind = 'capture'")
            )
        }
        assert captured == {p for p, v in PAYMENTS.items() if v[3] > 0}
        journals = _scalar(conn, "SELECT COUNT(*) FROM ledger_journals")
        fee = _scalar(conn, "SELECT fee FROM disputes WHERE id = 'dp_open'")
        assert fee == 1_500  # 15.00 in the dispute's currency, Stripe's default
        for currency, live in (("USD", False), ("EUR", False), ("USD", True)):
            params = {"c": currency, "l": live}
            row = conn.execute(
                sa.text(
                    "SELECT available, pending, in_transit FROM balances "
                    "WHERE merchant_id = 'mer_1' AND currency = :c AND livemode = :l"
                ),
                params,
            ).one()
            nets = _scalar(
                conn,
                "SELECT SUM(net) FROM balance_transactions WHERE merchant_id = 'mer_1' "
                "AND currency = :c AND livemode = :l",
                **params,
            )
            assert nets == row.available + row.pending
            assert row.available >= 0 and row.in_transit == 0
            # What the payments imply: their net, less the disputes not won (amount and fee).
            implied = sum(
                v[3] - v[4] - v[5] - v[6]
                for v in PAYMENTS.values()
                if (v[1], v[2]) == (currency, live)
            ) - sum(
                amount + 1_500
                for pid, amount, status in DISPUTES.values()
                if (PAYMENTS[pid][1], PAYMENTS[pid][2]) == (currency, live) and status != "won"
            )
            assert nets == implied, (currency, live)
        # Long past their dates: everything is available but what waits on a debit.
        assert (
            _scalar(
                conn,
                "SELECT COUNT(*) FROM balance_transactions WHERE type = 'charge' "
                "AND status = 'pending'",
            )
            == 0
        )
    with Session(engine) as db:
        assert backfill.run(db).payments == 0  # idempotent
        db.commit()
    with engine.connect() as conn:
        assert _scalar(conn, "SELECT COUNT(*) FROM ledger_journals") == journals
    command.downgrade(cfg, "0019-1")  # and back
