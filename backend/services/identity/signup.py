"""Sign-up from the portal: a merchant and its owner, a verification e-mail, a first session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.services.identity import accounts, email_verification, sessions


@dataclass(frozen=True)
class SignedUp:
    session_token: str
    merchant_id: str
    user_id: str
    verification_email_id: str


def sign_up(
    db: Session,
    *,
    email: object,
    password: object,
    business_name: object,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> SignedUp:
    """Create the account and sign its owner in; send the e-mail after the caller commits."""
    name = business_name.strip() if isinstance(business_name, str) else ""
    if not name:
        raise ValidationFailed("Enter your business name", param="name")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ValidationFailed("Enter an e-mail address and a password", param="email")
    created = accounts.create_merchant(db, email=email, password=password, name=name)
    email_id = email_verification.send_link(db, created.user, merchant_id=created.merchant.id)
    token, _ = sessions.start_session(
        db,
        user_id=created.user.id,
        merchant_id=created.merchant.id,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return SignedUp(token, created.merchant.id, created.user.id, email_id)
