"""SMS codes: the real twilio SDK against a local Twilio Verify fake, and the sandbox twin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest
from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.errors import AuthenticationFailed, RateLimited, ValidationFailed
from backend.integrations import sms as sms_provider
from backend.models import OutboundSms, SmsVerification, User, UserSession
from backend.services.identity import accounts, sessions, sms, step_up, two_factor
from tests.fakes.twilio_api import FakeTwilioVerify

PASSWORD = "correct horse battery"
PHONE = "+14155550123"


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioVerify]:
    with FakeTwilioVerify() as fake:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setenv("TWILIO_VERIFY_SERVICE_SID", fake.service_sid)
        monkeypatch.setenv("TWILIO_API_BASE", fake.url)
        get_settings.cache_clear()
        sms_provider._client.cache_clear()
        yield fake
    get_settings.cache_clear()
    sms_provider._client.cache_clear()


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_VERIFY_SERVICE_SID"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def make_user(db: Session, email: str) -> User:
    created = accounts.create_merchant(db, email=email, password=PASSWORD)
    db.commit()
    return created.user


def test_phone_enrolment_through_twilio_verify(db: Session, twilio: FakeTwilioVerify):
    user = make_user(db, "a@shop.test")
    row = sms.start_phone_enrolment(db, user.id, "+1 (415) 555-0123")
    db.commit()
    assert row.provider == "twilio" and row.provider_sid and row.provider_sid.startswith("VE")
    assert row.code_digest is None  # Twilio holds the code, we never see it
    assert twilio.sent[-1][0] == PHONE
    assert db.exec(select(OutboundSms)).all() == []  # nothing in the sandbox outbox

    with pytest.raises(AuthenticationFailed, match="not right"):
        sms.confirm_phone(
            db,
            user.id,
            "000000" if twilio.code_for(PHONE) != "000000" else "111111",
            merchant_id=None,
        )
    db.rollback()
    sms.confirm_phone(db, user.id, twilio.code_for(PHONE), merchant_id=None)
    db.commit()
    db.refresh(user)
    assert user.phone == PHONE and user.phone_verified_at is not None
    # The same code again: Twilio has nothing pending (404), so it is refused.
    with pytest.raises(AuthenticationFailed):
        sms.check_code(db, user.id, purpose="phone", code=twilio.code_for(PHONE))


def test_twilio_errors_become_clear_messages(db: Session, twilio: FakeTwilioVerify):
    user = make_user(db, "b@shop.test")
    twilio.fail_next(1, 500)
    with pytest.raises(sms_provider.SmsUnavailable, match="could not send"):
        sms.start_phone_enrolment(db, user.id, "+44 20 7946 0958")
    db.rollback()
    assert db.exec(select(SmsVerification)).all() == []
    with pytest.raises(ValidationFailed, match="country code"):
        sms.start_phone_enrolment(db, user.id, "555-0123")


def test_sign_in_and_step_up_with_an_sms_code(db: Session, twilio: FakeTwilioVerify):
    user = make_user(db, "c@shop.test")
    enrolment = two_factor.begin_enrolment(db, user.id)
    db.commit()
    two_factor.confirm_enrolment(db, user.id, pyotp.TOTP(enrolment.secret).now())
    sms.start_phone_enrolment(db, user.id, PHONE)
    db.commit()
    sms.confirm_phone(db, user.id, twilio.code_for(PHONE), merchant_id=None)
    db.commit()

    step = two_factor.begin_login(db, email="c@shop.test", password=PASSWORD)
    db.commit()
    challenge = two_factor.challenge(db, step.pending_token)
    assert challenge.methods == ["totp", "sms", "recovery"]
    assert challenge.phone_hint.endswith("0123") and PHONE not in challenge.phone_hint
    assert two_factor.send_login_sms(db, step.pending_token).endswith("0123")
    db.commit()
    token = two_factor.complete_login(
        db, step.pending_token, method="sms", code=twilio.code_for(PHONE)
    )
    db.commit()
    ctx = sessions.resolve(db, token)
    assert ctx is not None

    # Step-up later, by text message.
    session = db.get(UserSession, ctx.session_id)
    assert session is not None
    session.step_up_at = None
    db.commit()
    two_factor.send_sms(db, user.id, purpose="step_up")
    db.commit()
    two_factor.step_up_with(
        db, session_id=session.id, user_id=user.id, method="sms", code=twilio.code_for(PHONE)
    )
    db.commit()
    step_up.require_fresh(db, session.id)
    assert [to for to, _ in twilio.checks] == [PHONE] * 3


def test_sandbox_twin_texts_into_the_outbox(db: Session, sandbox: None):
    user = make_user(db, "d@shop.test")
    row = sms.start_phone_enrolment(db, user.id, PHONE)
    db.commit()
    assert row.provider == "sandbox" and row.code_digest
    message = sms.sandbox_outbox(db)[0]
    assert message.to_phone == PHONE
    code = next(word for word in message.body.replace(".", " ").split() if word.isdigit())
    assert code not in row.code_digest
    sms.confirm_phone(db, user.id, code, merchant_id=None)
    db.commit()
    assert db.get(User, user.id).phone_verified_at is not None  # type: ignore[union-attr]


def test_sends_and_wrong_codes_are_rate_limited(db: Session, sandbox: None):
    user = make_user(db, "e@shop.test")
    sms.start_phone_enrolment(db, user.id, PHONE)
    db.commit()
    with pytest.raises(RateLimited, match="just sent"):
        sms.start_phone_enrolment(db, user.id, PHONE)
    db.rollback()
    assert sms.WRONG_CODES == "5/15 minutes"
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sms.check_code(db, user.id, purpose="phone", code="000000x")
        db.rollback()
    with pytest.raises(RateLimited, match="Too many wrong codes"):
        sms.check_code(db, user.id, purpose="phone", code="000000")


def test_an_expired_code_is_refused(db: Session, sandbox: None):
    user = make_user(db, "f@shop.test")
    row = sms.start_phone_enrolment(db, user.id, PHONE)
    db.commit()
    row.expires_at = datetime.now(UTC)
    db.commit()
    with pytest.raises(AuthenticationFailed, match="send a new one"):
        sms.check_code(db, user.id, purpose="phone", code="123456")
