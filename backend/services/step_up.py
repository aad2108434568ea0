"""Step-up: sensitive actions ask for a second factor proved within the last few minutes.

Refunds above the merchant's threshold, revealing or rolling API keys, changing webhook secrets
and bank details call `require_fresh` on the server before acting. Proving a factor (a TOTP,
SMS or recovery code, see the two-factor service) calls `record`, which opens the window for
this browser session only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.models import UserSession
from backend.models.types import utcnow
from backend.services.errors import PermissionDenied

WINDOW = timedelta(minutes=5)


class StepUpRequired(PermissionDenied):
    code = "step_up_required"


def is_fresh(session: UserSession, now: datetime | None = None) -> bool:
    if session.step_up_at is None:
        return False
    return (now or utcnow()) - session.step_up_at < WINDOW


def require_fresh(db: Session, session_id: str) -> None:
    session = db.get(UserSession, session_id)
    if session is None or session.revoked_at is not None or not is_fresh(session):
        raise StepUpRequired("Confirm it is you: enter a fresh code from your second factor.")


def record(db: Session, session_id: str) -> None:
    session = db.get(UserSession, session_id)
    if session is not None:
        session.step_up_at = utcnow()
        db.add(session)
