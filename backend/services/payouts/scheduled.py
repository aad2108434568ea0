"""Automatic payouts: each UTC day a merchant's schedule is due, its matured funds are released
and the whole available balance is paid out, when it reaches the schedule's minimum.

At most one automatic payout per merchant, mode, currency and day: each balance is decided in
its own transaction under the balance row's lock, which also sees the day's payout if another
run made it, so running the job twice (or on two workers) pays once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, func, or_, select

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.models.ledger import PLATFORM, Balance, Payout
from backend.models.types import utcnow
from backend.services.context import SYSTEM, Scope
from backend.services.ledger import release
from backend.services.ledger.journal import BalanceKey, lock
from backend.services.merchant import bank_accounts
from backend.services.payouts import creating, schedules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    key: BalanceKey
    payout_id: str | None
    reason: str  # "paid_out", "not_due", "below_minimum", "no_bank_account", "already_paid_out"


def create_scheduled(now: datetime | None = None) -> list[Decision]:
    """Pay out every platform-held balance whose schedule is due today (UTC), then send them."""
    now = now or utcnow()
    with session_scope(readonly=True) as db:
        keys = [
            BalanceKey(*row)
            for row in db.exec(
                select(Balance.merchant_id, Balance.livemode, Balance.currency, Balance.holder)
                .where(
                    Balance.holder == PLATFORM,
                    or_(col(Balance.available) != 0, col(Balance.pending) != 0),
                )
                .order_by(Balance.merchant_id, Balance.currency)
            ).all()
        ]
    decisions = []
    for key in keys:
        try:
            with session_scope() as db:
                decisions.append(decide(db, key, now))
        except ServiceError as exc:
            log.warning("automatic payout for %s not made: %s", key, exc.message)
            decisions.append(Decision(key, None, exc.code))
    for decision in decisions:
        if decision.payout_id is not None:
            creating.send(decision.payout_id)
    return decisions


def decide(db: Session, key: BalanceKey, now: datetime) -> Decision:
    """One balance's automatic payout for `now`'s day, in the caller's transaction."""
    scope = Scope(key.merchant_id, key.livemode)
    schedule = schedules.get_schedule(db, scope, key.currency)
    if not schedules.due(schedule, now.astimezone(UTC).date()):
        return Decision(key, None, "not_due")
    release.release(db, key, now)
    available = lock(db, key).available
    if _paid_out_today(db, key, now):
        return Decision(key, None, "already_paid_out")
    if available <= 0 or available < schedule.minimum_amount:
        return Decision(key, None, "below_minimum")
    if bank_accounts.current(db, key.merchant_id) is None:
        return Decision(key, None, "no_bank_account")
    payout = creating.book(db, scope, SYSTEM, key.currency, None, automatic=True, at=now)
    return Decision(key, payout.id, "paid_out")


def _paid_out_today(db: Session, key: BalanceKey, now: datetime) -> bool:
    start = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    count = db.exec(
        select(func.count()).where(
            Payout.merchant_id == key.merchant_id,
            Payout.livemode == key.livemode,
            Payout.currency == key.currency,
            Payout.holder == key.holder,
            col(Payout.automatic).is_(True),
            Payout.created_at >= start,
            Payout.created_at < start + timedelta(days=1),
        )
    ).one()
    return count > 0
