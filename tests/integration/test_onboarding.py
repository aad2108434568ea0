"""The dashboard's set-up checklist reads the owner's rows, and only owners see it."""

from __future__ import annotations

from backend.core.db import session_scope
from backend.integrations import bank_link
from backend.models import User, utcnow
from backend.models.enums import Role
from backend.services.merchant import bank_accounts, onboarding
from tests.integration.identity_support import fresh, member, sign_up


def done(steps: list[onboarding.Step]) -> dict[str, bool]:
    return {step.key: step.done for step in steps}


def test_steps_follow_the_owner_and_the_bank_account(configured_app: str):
    _, owner = sign_up(verified=False)
    with session_scope(readonly=True) as db:
        assert done(onboarding.checklist(db, owner)) == {
            "email": False,
            "phone": False,
            "two_factor": False,
            "bank": False,
        }
    with session_scope() as db:
        user = db.get(User, owner.user_id)
        assert user is not None
        user.email_verified_at = user.phone_verified_at = user.totp_enabled_at = utcnow()
        user.phone = "+14155550123"
        db.add(user)
    fresh(owner)
    with session_scope() as db:
        change = bank_accounts.connect(
            db,
            owner,
            public_token=bank_link.sandbox_public_token("ins_109508"),
            account_id=bank_link.sandbox_account_id("ins_109508", "checking"),
        )
    assert change.account is not None
    with session_scope(readonly=True) as db:
        assert all(done(onboarding.checklist(db, owner)).values())
        admin = member(owner.merchant_id, Role.ADMIN)
        assert onboarding.checklist(db, admin) == []
