"""Two-factor authentication: TOTP window and replay, recovery codes, sign-in, step-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from backend.core.errors import (
    AuthenticationFailed,
    Conflict,
    RateLimited,
    ValidationFailed,
)
from backend.models import AuditLog, PendingLogin, RecoveryCode, User, UserSession
from backend.services.identity import accounts, sessions, step_up, two_factor
from backend.services.identity.step_up import StepUpRequired, TwoFactorSetupRequired

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the two-factor service's idea of now: clock(datetime)."""
    current = {"now": T0}
    monkeypatch.setattr(two_factor, "utcnow", lambda: current["now"])

    def set_now(value: datetime) -> None:
        current["now"] = value

    return set_now


def make_user(db: Session, email: str = "owner@shop.test") -> User:
    created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Shop")
    db.commit()
    return created.user


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def enrol(db: Session, user: User, clock) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    enrolment = two_factor.begin_enrolment(db, user.id)
    db.commit()
    clock(T0 - timedelta(minutes=2))
    codes = two_factor.confirm_enrolment(
        db, user.id, code_at(enrolment.secret, T0 - timedelta(minutes=2))
    )
    db.commit()
    clock(T0)
    return enrolment.secret, codes


def test_enrolment_shows_a_qr_code_and_the_key_and_stores_it_encrypted(db: Session, clock):
    user = make_user(db)
    enrolment = two_factor.begin_enrolment(db, user.id)
    db.commit()
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert enrolment.otpauth_uri.startswith("otpauth://totp/PayPortal:owner%40shop.test?")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    db.refresh(user)
    assert user.totp_secret_encrypted and enrolment.secret not in user.totp_secret_encrypted
    assert not two_factor.is_enabled(user)  # not before a code is confirmed

    with pytest.raises(AuthenticationFailed, match="not right"):
        two_factor.confirm_enrolment(
            db, user.id, "000000" if code_at(enrolment.secret, T0) != "000000" else "111111"
        )
    db.rollback()
    codes = two_factor.confirm_enrolment(db, user.id, code_at(enrolment.secret, T0))
    db.commit()
    db.refresh(user)
    assert two_factor.is_enabled(user)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.exec(select(RecoveryCode.digest).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # digests only
    with pytest.raises(Conflict):
        two_factor.begin_enrolment(db, user.id)


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_a_code_from_the_neighbouring_steps_is_accepted(db: Session, clock, offset):
    user = make_user(db)
    secret, _ = enrol(db, user, clock)
    two_factor.prove(
        db,
        user.id,
        method="totp",
        code=code_at(secret, T0 + timedelta(seconds=offset)),
        sms_purpose="sign_in",
    )


@pytest.mark.parametrize("offset", [-60, 60, 3600])
def test_a_code_outside_the_window_is_refused(db: Session, clock, offset):
    user = make_user(db)
    secret, _ = enrol(db, user, clock)
    stale = code_at(secret, T0 + timedelta(seconds=offset))
    assert stale not in {code_at(secret, T0 + timedelta(seconds=s)) for s in (-30, 0, 30)}
    with pytest.raises(AuthenticationFailed, match="not right"):
        two_factor.prove(db, user.id, method="totp", code=stale, sms_purpose="sign_in")


def test_a_code_is_never_accepted_twice_nor_an_older_one_after_it(db: Session, clock):
    user = make_user(db)
    secret, _ = enrol(db, user, clock)
    current = code_at(secret, T0)
    two_factor.prove(db, user.id, method="totp", code=current, sms_purpose="sign_in")
    db.commit()
    with pytest.raises(AuthenticationFailed, match="already been used") as info:
        two_factor.prove(db, user.id, method="totp", code=current, sms_purpose="sign_in")
    assert info.value.code == "code_reused"
    db.rollback()
    with pytest.raises(AuthenticationFailed, match="already been used"):
        two_factor.prove(
            db,
            user.id,
            method="totp",
            code=code_at(secret, T0 - timedelta(seconds=30)),
            sms_purpose="sign_in",
        )
    db.rollback()
    # The next step's code is fine, even a little early.
    two_factor.prove(
        db,
        user.id,
        method="totp",
        code=code_at(secret, T0 + timedelta(seconds=30)),
        sms_purpose="sign_in",
    )


def test_recovery_codes_work_once_each_and_regenerating_replaces_them(db: Session, clock):
    user = make_user(db)
    _, codes = enrol(db, user, clock)
    two_factor.prove(db, user.id, method="recovery", code=codes[0].upper(), sms_purpose="sign_in")
    db.commit()
    assert two_factor.recovery_codes_left(db, user.id) == 9
    with pytest.raises(AuthenticationFailed, match="not valid or has been used"):
        two_factor.prove(db, user.id, method="recovery", code=codes[0], sms_purpose="sign_in")
    db.rollback()

    _, session = sessions.start_session(
        db, user_id=user.id, merchant_id=_membership(db, user).merchant_id, second_factor="totp"
    )
    db.commit()
    fresh = two_factor.regenerate_recovery_codes(db, user.id, session_id=session.id)
    db.commit()
    assert two_factor.recovery_codes_left(db, user.id) == 10
    with pytest.raises(AuthenticationFailed):
        two_factor.prove(db, user.id, method="recovery", code=codes[1], sms_purpose="sign_in")
    db.rollback()
    two_factor.prove(db, user.id, method="recovery", code=fresh[1], sms_purpose="sign_in")


def _membership(db: Session, user: User):  # type: ignore[no-untyped-def]
    from backend.models import Membership

    return db.exec(select(Membership).where(Membership.user_id == user.id)).one()


def test_wrong_codes_are_limited_per_person(db: Session, clock):
    user = make_user(db)
    secret, _ = enrol(db, user, clock)
    wrong = next(
        f"{n:06d}"
        for n in range(10**6)
        if f"{n:06d}" not in {code_at(secret, T0 + timedelta(seconds=s)) for s in (-30, 0, 30)}
    )
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            two_factor.prove(db, user.id, method="totp", code=wrong, sms_purpose="sign_in")
        db.rollback()
    # Now even the right code waits: guessing gets nowhere.
    with pytest.raises(RateLimited, match="Too many wrong codes"):
        two_factor.prove(
            db, user.id, method="totp", code=code_at(secret, T0), sms_purpose="sign_in"
        )


def test_sign_in_with_2fa_needs_the_second_factor_before_any_session(db: Session, clock):
    user = make_user(db)
    secret, codes = enrol(db, user, clock)
    # The plain password sign-in refuses to bypass the second factor.
    with pytest.raises(sessions.SecondFactorRequired):
        sessions.sign_in(db, email="owner@shop.test", password=PASSWORD)
    db.rollback()

    step = two_factor.begin_login(db, email="owner@shop.test", password=PASSWORD)
    db.commit()
    assert step.session_token is None and step.pending_token
    assert db.exec(select(UserSession)).all() == []
    assert two_factor.challenge(db, step.pending_token).methods == ["totp", "recovery"]

    with pytest.raises(AuthenticationFailed):
        two_factor.complete_login(db, step.pending_token, method="totp", code="12345x")
    db.rollback()
    token = two_factor.complete_login(
        db, step.pending_token, method="totp", code=code_at(secret, T0)
    )
    db.commit()
    ctx = sessions.resolve(db, token)
    assert ctx is not None and ctx.user_id == user.id
    session = db.get(UserSession, ctx.session_id)
    assert session is not None and step_up.is_fresh(session)  # the proof opens the window

    # The pending sign-in was single use.
    with pytest.raises(AuthenticationFailed, match="expired"):
        two_factor.complete_login(db, step.pending_token, method="recovery", code=codes[0])
    db.rollback()
    # A recovery code signs in too (a fresh password step first).
    step = two_factor.begin_login(db, email="owner@shop.test", password=PASSWORD)
    db.commit()
    assert sessions.resolve(
        db, two_factor.complete_login(db, step.pending_token, method="recovery", code=codes[0])
    )


def test_a_pending_sign_in_expires(db: Session, clock):
    user = make_user(db)
    secret, _ = enrol(db, user, clock)
    step = two_factor.begin_login(db, email="owner@shop.test", password=PASSWORD)
    db.commit()
    pending = db.exec(select(PendingLogin)).one()
    pending.expires_at = T0 - timedelta(seconds=1)
    db.commit()
    with pytest.raises(AuthenticationFailed, match="expired"):
        two_factor.complete_login(db, step.pending_token, method="totp", code=code_at(secret, T0))
    with pytest.raises(AuthenticationFailed, match="expired"):
        two_factor.challenge(db, "not-a-token")


def test_users_without_2fa_sign_in_at_once(db: Session):
    make_user(db)
    step = two_factor.begin_login(db, email="owner@shop.test", password=PASSWORD)
    db.commit()
    assert step.pending_token is None and sessions.resolve(db, step.session_token)


def test_wrong_passwords_count_even_though_the_unit_of_work_rolls_back(db: Session):
    make_user(db)
    for _ in range(sessions.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            two_factor.begin_login(db, email="owner@shop.test", password="wrong password!")
        db.rollback()  # what session_scope does on the error
    with pytest.raises(RateLimited):
        two_factor.begin_login(db, email="owner@shop.test", password=PASSWORD)


def test_step_up_window_and_accounts_without_2fa(db: Session, clock, monkeypatch):
    user = make_user(db)
    _, session = sessions.start_session(
        db, user_id=user.id, merchant_id=_membership(db, user).merchant_id
    )
    db.commit()
    # No second factor at all: told to set one up, never let through.
    with pytest.raises(TwoFactorSetupRequired, match="Turn on two-factor"):
        step_up.require_fresh(db, session.id)

    secret, _ = enrol(db, user, clock)
    with pytest.raises(StepUpRequired) as info:
        step_up.require_fresh(db, session.id)
    assert not isinstance(info.value, TwoFactorSetupRequired)
    two_factor.step_up_with(
        db, session_id=session.id, user_id=user.id, method="totp", code=code_at(secret, T0)
    )
    db.commit()
    step_up.require_fresh(db, session.id)  # fresh now

    db.refresh(session)
    assert step_up.is_fresh(session, session.step_up_at + step_up.WINDOW - timedelta(seconds=1))
    assert not step_up.is_fresh(session, session.step_up_at + step_up.WINDOW)
    session.step_up_at = datetime.now(UTC) - step_up.WINDOW - timedelta(seconds=1)
    db.commit()
    with pytest.raises(StepUpRequired):
        step_up.require_fresh(db, session.id)


def test_disabling_2fa_needs_a_fresh_code_and_removes_everything(db: Session, clock):
    user = make_user(db)
    enrol(db, user, clock)
    _, session = sessions.start_session(
        db, user_id=user.id, merchant_id=_membership(db, user).merchant_id
    )
    db.commit()
    with pytest.raises(StepUpRequired):
        two_factor.disable(db, user.id, session_id=session.id)
    db.rollback()
    session.step_up_at = datetime.now(UTC)
    db.add(session)
    db.commit()
    two_factor.disable(db, user.id, session_id=session.id)
    db.commit()
    db.refresh(user)
    assert user.totp_secret_encrypted is None and user.totp_enabled_at is None
    assert two_factor.recovery_codes_left(db, user.id) == 0
    actions = set(db.exec(select(AuditLog.action)))
    assert {"user.two_factor_enabled", "user.two_factor_disabled"} <= actions


def test_sms_is_offered_only_with_a_verified_phone(db: Session, clock):
    user = make_user(db)
    enrol(db, user, clock)
    with pytest.raises(ValidationFailed, match="Choose a way"):
        two_factor.prove(db, user.id, method="sms", code="123456", sms_purpose="sign_in")
