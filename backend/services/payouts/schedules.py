"""When a merchant is paid in each currency: daily, weekly on a weekday, monthly on a day (a
shorter month pays on its last day) or manually; and the least amount worth a payout.

Without a stored schedule a merchant is paid daily with no minimum, as Stripe's default.
"""

from __future__ import annotations

import calendar
from datetime import date

from sqlmodel import Session

from backend.core.currency import normalise_currency
from backend.core.errors import ValidationFailed
from backend.models.enums import PayoutInterval
from backend.models.ledger import PayoutSchedule
from backend.models.types import utcnow
from backend.services import audit
from backend.services.context import Actor, Scope
from backend.services.identity.sessions import SessionContext
from backend.services.payouts.authority import require_payout_authority

MAX_MINIMUM = 10**12  # a minimum above this is a typo, not a policy


def get_schedule(db: Session, scope: Scope, currency: str) -> PayoutSchedule:
    """The stored schedule, or the default one (not stored) when there is none."""
    upper = normalise_currency(currency)
    found = db.get(PayoutSchedule, (scope.merchant_id, scope.livemode, upper))
    if found is not None:
        return found
    return PayoutSchedule(merchant_id=scope.merchant_id, livemode=scope.livemode, currency=upper)


def set_schedule(
    db: Session,
    scope: Scope,
    actor: Actor,
    currency: str,
    *,
    interval: str,
    weekly_anchor: int = 0,
    monthly_anchor: int = 1,
    minimum_amount: int = 0,
    member: SessionContext | None = None,
) -> PayoutSchedule:
    """Store the schedule (owner only, audited with what it was before)."""
    require_payout_authority(db, scope, actor, member, step_up_in_live=False)
    if interval not in set(PayoutInterval):
        choices = ", ".join(PayoutInterval)
        raise ValidationFailed(f"interval must be one of: {choices}", param="interval")
    for name, value, low, high in (
        ("weeklyAnchor", weekly_anchor, 0, 4),
        ("monthlyAnchor", monthly_anchor, 1, 31),
        ("minimumAmountCents", minimum_amount, 0, MAX_MINIMUM),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(
                f"{name} must be a whole number from {low} to {high}", param=name
            )
    schedule = get_schedule(db, scope, currency)
    before = {
        "interval": schedule.interval,
        "weeklyAnchor": schedule.weekly_anchor,
        "monthlyAnchor": schedule.monthly_anchor,
        "minimumAmountCents": schedule.minimum_amount,
    }
    schedule.interval = interval
    schedule.weekly_anchor = weekly_anchor
    schedule.monthly_anchor = monthly_anchor
    schedule.minimum_amount = minimum_amount
    schedule.updated_at = utcnow()
    db.add(schedule)
    db.flush()
    audit.record(
        db,
        action="payout_schedule.updated",
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type="payout_schedule",
        object_id=schedule.currency,
        ip_address=actor.ip_address,
        details={"currency": schedule.currency, "before": before, "after": schedule_view(schedule)},
    )
    return schedule


def schedule_view(schedule: PayoutSchedule) -> dict[str, object]:
    return {
        "currency": schedule.currency,
        "interval": schedule.interval,
        "weeklyAnchor": schedule.weekly_anchor,
        "monthlyAnchor": schedule.monthly_anchor,
        "minimumAmountCents": schedule.minimum_amount,
    }


def due(schedule: PayoutSchedule, today: date) -> bool:
    """Whether the schedule pays on this (UTC) day."""
    interval = schedule.interval
    if interval == PayoutInterval.DAILY:
        return True
    if interval == PayoutInterval.WEEKLY:
        return today.weekday() == schedule.weekly_anchor
    if interval == PayoutInterval.MONTHLY:
        last = calendar.monthrange(today.year, today.month)[1]
        return today.day == min(schedule.monthly_anchor, last)
    return False  # manual
