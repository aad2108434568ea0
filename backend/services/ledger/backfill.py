"""Book the ledger of a history written before it existed (migration 0019) or written directly
(the demo seed): every captured payment, booked refund and dispute, in the order they
happened, through the same postings the booking path uses, then the release of what has
matured.

Idempotent: a payment whose capture is already in the ledger is skipped with its refunds and
disputes (the booking path booked them). The rows are read with plain SQL on the columns this
needs, so the migration keeps working when later migrations add columns to these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.models.ledger import PLATFORM
from backend.models.types import UTCDateTime, utcnow
from backend.services.ledger import postings, release
from backend.services.ledger.journal import BalanceKey
from backend.services.payments import gateway_configs
from backend.services.payments.fees import dispute_fee

CAPTURED = ("succeeded", "partially_refunded", "refunded", "disputed")
BOOKED_REFUNDS = ("pending", "succeeded")
T = UTCDateTime()


def _table(name: str, *columns: str, times: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, T if c in times else None) for c in columns))


PAYMENTS = _table(
    "payments",
    "id",
    "merchant_id",
    "livemode",
    "status",
    "currency",
    "amount_captured",
    "amount_refunded",
    "platform_fee",
    "gateway_fee",
    "net_amount",
    "gateway_config_id",
    "card_last4",
    "description",
    "captured_at",
    "created_at",
    times=("captured_at", "created_at"),
)
REFUNDS = _table(
    "refunds",
    "id",
    "payment_id",
    "amount",
    "status",
    "platform_fee_refunded",
    "created_at",
    times=("created_at",),
)
DISPUTES = _table(
    "disputes",
    "id",
    "payment_id",
    "amount",
    "fee",
    "status",
    "created_at",
    "closed_at",
    times=("created_at", "closed_at"),
)
CONFIGS = _table("gateway_configs", "id", "gateway", "dispute_fee", "credentials_encrypted")
MERCHANTS = _table("merchants", "id", "payout_delay_days")
JOURNALS = _table("ledger_journals", "key")


@dataclass(frozen=True)
class Summary:
    payments: int
    refunds: int
    disputes: int


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def run(db: Session, *, merchant_id: str | None = None, now: datetime | None = None) -> Summary:
    """Book every payment (of one merchant, or all) not yet in the ledger."""
    now = now or utcnow()
    query = sa.select(PAYMENTS).where(PAYMENTS.c.status.in_(CAPTURED))
    if merchant_id is not None:
        query = query.where(PAYMENTS.c.merchant_id == merchant_id)
    payments = {row.id: row for row in db.execute(query)}
    if not payments:
        return Summary(0, 0, 0)
    booked = {
        key.removeprefix("capture:")
        for (key,) in db.execute(sa.select(JOURNALS.c.key).where(JOURNALS.c.key.like("capture:%")))
    }
    payments = {pid: row for pid, row in payments.items() if pid not in booked}
    configs = {row.id: row for row in db.execute(sa.select(CONFIGS))}
    delays = {row.id: row.payout_delay_days for row in db.execute(sa.select(MERCHANTS))}
    ids = list(payments)
    refunds, disputes = [], []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        refunds += db.execute(
            sa.select(REFUNDS).where(
                REFUNDS.c.payment_id.in_(chunk), REFUNDS.c.status.in_(BOOKED_REFUNDS)
            )
        ).all()
        disputes += db.execute(sa.select(DISPUTES).where(DISPUTES.c.payment_id.in_(chunk))).all()

    def holder(payment: Any) -> str:
        config = configs.get(payment.gateway_config_id)
        if config is not None and gateway_configs.is_own_account(config):
            return str(config.id)
        return PLATFORM

    # A payment's platform_fee is what the platform still holds: at its capture it took that
    # plus what its booked refunds handed back since.
    handed_back: dict[str, int] = {}
    for row in refunds:
        handed_back[row.payment_id] = handed_back.get(row.payment_id, 0) + row.platform_fee_refunded

    def as_payment(row: Any) -> SimpleNamespace:
        values = dict(row._mapping)
        values["platform_fee"] += handed_back.get(row.id, 0)
        return SimpleNamespace(**values)

    happenings: list[tuple[datetime, int, Any]] = []
    for row in payments.values():
        at = _aware(row.captured_at) or _aware(row.created_at) or now
        happenings.append((at, 0, ("capture", row)))
    for row in refunds:
        happenings.append((_aware(row.created_at) or now, 1, ("refund", row)))
    for row in disputes:
        happenings.append((_aware(row.created_at) or now, 2, ("dispute", row)))
        if row.status in ("won", "lost"):
            closed = _aware(row.closed_at) or _aware(row.created_at) or now
            happenings.append((closed, 3, ("close", row)))
    happenings.sort(key=lambda h: (h[0], h[1]))

    keys: set[BalanceKey] = set()
    fees: dict[str, int] = {}
    for at, _, (kind, row) in happenings:
        payment = payments[row.payment_id] if kind != "capture" else row
        owner = holder(payment)
        keys.add(BalanceKey(payment.merchant_id, payment.livemode, payment.currency, owner))
        if kind == "capture":
            postings.captured(
                db,
                as_payment(row),  # type: ignore[arg-type]
                at,
                holder=owner,
                delay_days=delays.get(row.merchant_id, 2),
            )
            continue
        common = {
            "merchant_id": payment.merchant_id,
            "livemode": payment.livemode,
            "currency": payment.currency,
        }
        if kind == "refund":
            refund = SimpleNamespace(**row._mapping, **common)
            postings.refunded(db, as_payment(payment), refund, at, holder=owner)  # type: ignore[arg-type]
            continue
        fee = fees.get(row.id)
        if fee is None:
            config = configs.get(payment.gateway_config_id)
            fee = row.fee or dispute_fee(payment.currency, config.dispute_fee if config else None)
            fees[row.id] = fee
        dispute = SimpleNamespace(**{**row._mapping, "fee": fee}, **common)
        if kind == "dispute":
            postings.dispute_opened(db, dispute, at, holder=owner)  # type: ignore[arg-type]
        else:
            postings.dispute_closed(db, dispute, won=row.status == "won", at=at, holder=owner)  # type: ignore[arg-type]
    for dispute_id, fee in fees.items():
        db.execute(sa.update(DISPUTES).where(DISPUTES.c.id == dispute_id).values(fee=fee))
    for key in sorted(keys, key=lambda k: (k.merchant_id, k.livemode, k.currency, k.holder)):
        release.release(db, key, now, announce=False)
    return Summary(len(payments), len(refunds), len(disputes))
