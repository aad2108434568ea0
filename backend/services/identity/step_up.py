"""Step-up: sensitive actions ask for a second factor proved within the last few minutes.

Refunds above the merchant's threshold, revealing or rolling API keys, changing webhook secrets
and bank details call `require_fresh` on the server before acting. Proving a factor (a TOTP,
SMS or recovery code, see the two-factor service) calls `record`, which opens the window for
this browser session only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.core.errors import PermissionDenied
from backend.models import User, UserSession
from backend.models.types import utcnow

WINDOW = timedelta(minutes=5)


class StepUpRequired(PermissionDenied):
    code = "step_up_required"


def is_fresh(session: UserSession, now: datetime | None = None) -> bool:
    if session.step_up_at is None:
        return False
    return (now or utcnow()) - session.step_up_at < WINDOW


class TwoFactorSetupRequired(StepUpRequired):
    """Sensitive actions are closed to accounts without a second factor to prove."""

    code = "two_factor_required"


def require_fresh(db: Session, session_id: str) -> None:
    session = db.get(UserSession, session_id)
    if session is None or session.revoked_at is not None:
        raise StepUpRequired("Your session has ended: sign in again.")
    if is_fresh(session):
        return
    user = db.get(User, session.user_id)
    if user is None or user.totp_enabled_at is None:
        raise TwoFactorSetupRequired(
            "Turn on two-factor authentication (Settings, Security) before doing this: "
            "sensitive actions ask for a fresh code."
        )
    raise StepUpRequired("Confirm it is you: enter a fresh code from your second factor.")


def record(db: Session, session_id: str) -> None:
    session = db.get(UserSession, session_id)
    if session is not None:
        session.step_up_at = utcnow()
        db.add(session)
