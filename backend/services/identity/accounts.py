"""Merchant accounts: a merchant with its owner, and the rules for e-mails and passwords."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select
from zxcvbn import zxcvbn

from backend.core.config import get_settings
from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import hash_password
from backend.models import Membership, Merchant, User
from backend.models.enums import Role
from backend.services import audit
from backend.services.identity import api_keys

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
# zxcvbn's scale: 0-2 fall to an online or a throttled offline guessing attack; 3 and up do not.
MIN_PASSWORD_SCORE = 3
_STRENGTH_WORDS = {3: "Strong password.", 4: "Very strong password."}


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


def _strength(password: str, email: str | None) -> tuple[int, str]:
    """(zxcvbn score 0-4, why it is weak in words or ""), the e-mail and its name counted as
    guessable words."""
    local, _, domain = (email or "").partition("@")
    hints = [h for h in (email, local, domain, domain.split(".")[0]) if h]
    result = zxcvbn(password[:MAX_PASSWORD_LENGTH], user_inputs=hints)
    feedback = result["feedback"]
    words = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
    return int(result["score"]), " ".join(w.strip() for w in words if w.strip())


def check_password_strength(password: object, *, email: str | None = None) -> str:
    """The password, or ValidationFailed saying why it is too short, too long or too easy to
    guess (common passwords, keyboard runs, dates, the e-mail's name: zxcvbn, offline)."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("A password is required", param="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for your password", param="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at most {MAX_PASSWORD_LENGTH} characters for your password", param="password"
        )
    local_part = email.split("@")[0].lower() if email else ""
    if len(local_part) >= 3 and local_part in password.lower():
        raise ValidationFailed("Your password must not contain your e-mail name", param="password")
    score, why = _strength(password, email)
    if score < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            f"That password is too easy to guess. {why or 'Add another word or two.'}".strip(),
            param="password",
        )
    return password


def password_feedback(password: str, *, email: str | None = None) -> tuple[int, str]:
    """(score 0-4, advice) for the password meters; below 3 the password would be refused."""
    try:
        check_password_strength(password, email=email)
    except ValidationFailed as exc:
        # The meter shows red (0) or amber (1) for anything refused.
        close = isinstance(password, str) and len(password) >= MIN_PASSWORD_LENGTH
        return (1 if close and _strength(password, email)[0] >= 1 else 0), exc.message
    score = _strength(password, email)[0]
    return score, _STRENGTH_WORDS[score]


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
