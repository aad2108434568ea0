"""Merchant accounts: a merchant with its owner, and the rules for e-mails and passwords."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from backend.config import get_settings
from backend.ids import new_id
from backend.models import Membership, Merchant, User
from backend.models.enums import Role
from backend.services import api_keys, audit
from backend.services.errors import Conflict, ValidationFailed
from backend.services.security import hash_password

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
_COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "qwertyuiop",
        "1234567890",
        "0123456789",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "administrator",
        "passw0rd123",
    }
)


def normalise_email(email: object, *, param: str = "email") -> str:
    if not isinstance(email, str) or not email.strip():
        raise ValidationFailed("An e-mail address is required", param=param)
    try:
        # Outside production, reserved domains (.test, .example, .local) are fine for demos.
        result = validate_email(
            email.strip(),
            check_deliverability=False,
            globally_deliverable=get_settings().is_production,
            test_environment=not get_settings().is_production,
        )
    except EmailNotValidError as exc:
        raise ValidationFailed(f"That e-mail address is not valid: {exc}", param=param) from exc
    return result.normalized.lower()


def check_password_strength(password: object, *, email: str | None = None) -> str:
    """The password, or ValidationFailed with a message a person can act on."""
    if not isinstance(password, str):
        raise ValidationFailed("A password is required", param="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for your password", param="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at most {MAX_PASSWORD_LENGTH} characters for your password", param="password"
        )
    lowered = password.lower()
    if len(set(password)) < 4 or lowered in _COMMON_PASSWORDS:
        raise ValidationFailed(
            "That password is too easy to guess: mix words, numbers or symbols", param="password"
        )
    local_part = email.split("@")[0].lower() if email else ""
    if len(local_part) >= 3 and local_part in lowered:
        raise ValidationFailed("Your password must not contain your e-mail name", param="password")
    return password


def password_feedback(password: str, *, email: str | None = None) -> tuple[int, str]:
    """(score 0-4, advice) for the sign-up form's meter; 0 means the password would be refused."""
    try:
        check_password_strength(password, email=email)
    except ValidationFailed as exc:
        return 0, exc.message
    kinds = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    score = 1 + (len(password) >= 14) + (len(password) >= 20) + (kinds >= 3)
    advice = {
        1: "Acceptable. A longer passphrase would be stronger.",
        2: "Good password.",
        3: "Strong password.",
        4: "Very strong password.",
    }
    return score, advice[score]


@dataclass(frozen=True)
class CreatedMerchant:
    merchant: Merchant
    user: User
    test_secret_key: str


def create_merchant(
    db: Session, *, email: str, password: str, name: str | None = None, country: str = "US"
) -> CreatedMerchant:
    """A merchant, its owner and a test-mode secret key, in the caller's transaction."""
    email = normalise_email(email)
    check_password_strength(password, email=email)
    business_name = (name or "").strip() or email.split("@")[0].title()
    if len(business_name) > 200:
        raise ValidationFailed(
            "The business name is too long (200 characters at most)", param="name"
        )
    if db.exec(select(User.id).where(User.email == email)).first():
        raise Conflict(
            "An account with that e-mail address already exists", param="email", code="email_taken"
        )

    merchant = Merchant(id=new_id("mer"), name=business_name, support_email=email, country=country)
    user = User(id=new_id("usr"), email=email, password_hash=hash_password(password))
    db.add(merchant)
    db.add(user)
    db.flush()  # the membership and key reference both rows
    db.add(Membership(id=new_id("mem"), merchant_id=merchant.id, user_id=user.id, role=Role.OWNER))
    issued = api_keys.issue_key(db, merchant.id, livemode=False, created_by_user_id=user.id)
    audit.record(
        db,
        action="merchant.created",
        merchant_id=merchant.id,
        actor_id=user.id,
        object_type="merchant",
        object_id=merchant.id,
        details={"name": business_name},
    )
    return CreatedMerchant(merchant, user, issued.secret)
