"""Single-use, expiring links sent by e-mail: verify an address, reset a password.

The link carries a random token (238 bits); only its keyed digest is stored, so reading the
database does not hand out working links. Using a token marks it used in the same UPDATE that
checks it is unused and unexpired, so two clicks racing each other cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from backend.core.errors import RateLimited, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import random_token, token_digest
from backend.models import ActionToken, utcnow


class Purpose(StrEnum):
    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"


LIFETIME: dict[Purpose, timedelta] = {
    Purpose.EMAIL_VERIFICATION: timedelta(hours=48),
    Purpose.PASSWORD_RESET: timedelta(hours=1),
}
INVALID_LINK = "This link has expired or was already used. Ask for a new one."
_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class SendAllowance:
    """How often a person may ask for another e-mail of one purpose."""

    min_interval: timedelta
    per_hour: int


def _digest(token: str) -> str:
    return token_digest(token, purpose="action-link")


def issue(
    db: Session, purpose: Purpose, *, user_id: str, email: str, now: datetime | None = None
) -> str:
    """A new token for the link; earlier unused tokens of the same purpose stop working."""
    now = now or utcnow()
    db.exec(
        update(ActionToken)
        .where(
            col(ActionToken.user_id) == user_id,
            col(ActionToken.purpose) == purpose,
            col(ActionToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    token = random_token(40)
    db.add(
        ActionToken(
            id=new_id("atk"),
            purpose=purpose,
            user_id=user_id,
            email=email,
            token_digest=_digest(token),
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    return token


def check_allowance(
    db: Session,
    purpose: Purpose,
    *,
    user_id: str,
    allowance: SendAllowance,
    now: datetime | None = None,
) -> None:
    """RateLimited, saying how long to wait, when this user asked for this e-mail too often."""
    now = now or utcnow()
    since = now - timedelta(hours=1)
    count, oldest, latest = db.exec(
        select(
            func.count(), func.min(ActionToken.created_at), func.max(ActionToken.created_at)
        ).where(
            col(ActionToken.user_id) == user_id,
            col(ActionToken.purpose) == purpose,
            col(ActionToken.created_at) > since,
        )
    ).one()
    if latest is None:
        return
    wait = latest + allowance.min_interval - now
    if count >= allowance.per_hour:
        wait = max(wait, oldest + timedelta(hours=1) - now)
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        raise RateLimited(
            f"An e-mail was sent a moment ago. You can ask for another in {_say(seconds)}.",
            retry_after=seconds,
        )


def _say(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def _valid_row(db: Session, purpose: Purpose, token: object, now: datetime) -> ActionToken:
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise ValidationFailed(INVALID_LINK, param="token", code="invalid_link")
    row = db.exec(select(ActionToken).where(ActionToken.token_digest == _digest(token))).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        raise ValidationFailed(INVALID_LINK, param="token", code="invalid_link")
    return row


def peek(db: Session, purpose: Purpose, token: object, now: datetime | None = None) -> ActionToken:
    """The token's row if the link still works, without using it (to show the right form)."""
    return _valid_row(db, purpose, token, now or utcnow())


def consume(
    db: Session, purpose: Purpose, token: object, now: datetime | None = None
) -> ActionToken:
    """Use the link once: the row, marked used; ValidationFailed if it is unknown, used or old."""
    now = now or utcnow()
    row = _valid_row(db, purpose, token, now)
    claimed = db.exec(
        update(ActionToken)
        .where(
            col(ActionToken.id) == row.id,
            col(ActionToken.used_at).is_(None),
            col(ActionToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # another request used it between our read and this write
        raise ValidationFailed(INVALID_LINK, param="token", code="invalid_link")
    row.used_at = now
    return row
