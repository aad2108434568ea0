"""A merchant's billing settings: the dunning schedule and what ends it, whether customers may
cancel in their billing portal, and the prefix of its invoice numbers.

The row is made with the defaults the first time billing reads it: retries 3, 5 and 7 days after
a renewal's first failure (Stripe's recommended schedule), cancel when they run out, customers
may cancel at period end, and a prefix drawn from the merchant's id.
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.models.billing import BillingSettings
from backend.models.enums import DunningEnd
from backend.models.types import utcnow
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope

MAX_RETRIES = 8
LAST_RETRY_DAY = 60


def billing_settings(db: Session, merchant_id: str) -> BillingSettings:
    """The merchant's settings, made with the defaults on first use."""
    found = db.get(BillingSettings, merchant_id)
    if found is not None:
        return found
    made = BillingSettings(merchant_id=merchant_id, invoice_prefix=_prefix(merchant_id))
    with db.begin_nested():  # two first uses at once: the second reads the first's row
        db.add(made)
    return made


def update_billing_settings(
    db: Session,
    scope: Scope,
    *,
    retry_days: object = None,
    dunning_end: object = None,
    portal_allows_cancel: object = None,
    actor: Actor = SYSTEM,
) -> BillingSettings:
    """Change what is given (None: unchanged)."""
    found = billing_settings(db, scope.merchant_id)
    if retry_days is not None:
        found.retry_days = parse_retry_days(retry_days)
    if dunning_end is not None:
        if dunning_end not in tuple(DunningEnd):
            raise ValidationFailed("dunningEnd must be 'cancel' or 'unpaid'", param="dunningEnd")
        found.dunning_end = str(dunning_end)
    if portal_allows_cancel is not None:
        if not isinstance(portal_allows_cancel, bool):
            raise ValidationFailed(
                "portalAllowsCancel must be true or false", param="portalAllowsCancel"
            )
        found.portal_allows_cancel = portal_allows_cancel
    found.updated_at = utcnow()
    db.add(found)
    details = {
        "retryDays": found.retry_days,
        "dunningEnd": found.dunning_end,
        "portalAllowsCancel": found.portal_allows_cancel,
    }
    audit.record(
        db,
        action="billing_settings.updated",
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type="billing_settings",
        object_id=scope.merchant_id,
        ip_address=actor.ip_address,
        details=details,
    )
    return found


def parse_retry_days(value: object) -> list[int]:
    """Days after the first failure, strictly increasing, 1 to 60, at most eight; [] retries
    nothing (the end comes at the first failure)."""
    if not isinstance(value, list) or len(value) > MAX_RETRIES:
        raise ValidationFailed(
            f"retryDays must be a list of at most {MAX_RETRIES} days", param="retryDays"
        )
    days: list[int] = []
    for day in value:
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= LAST_RETRY_DAY:
            raise ValidationFailed(
                f"each retry day must be a whole number from 1 to {LAST_RETRY_DAY}",
                param="retryDays",
            )
        if days and day <= days[-1]:
            raise ValidationFailed(
                "retryDays must be increasing: days after the first failure", param="retryDays"
            )
        days.append(day)
    return days


def _prefix(merchant_id: str) -> str:
    """Eight letters and digits from the merchant's id, as Stripe's invoice prefixes look."""
    return hashlib.sha256(merchant_id.encode()).hexdigest()[:8].upper()
