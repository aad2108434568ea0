"""One-time codes by text message: Twilio Verify when configured, a sandbox twin otherwise.

With TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID set, the real twilio
SDK starts a Verify v2 verification (Twilio generates, texts and later checks the code; we never
see it) and checks the code the person types with a verification check. TWILIO_API_BASE points
the SDK at another host (the local fake in the tests).

Without keys the sandbox twin generates the code itself, keeps only its keyed digest, and
records the text it would have sent in outbound_sms, which the demo shows at /dev/sms so the
code can be read offline.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.core.config import get_settings
from backend.core.errors import RateLimited, ServiceError, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import token_digest
from backend.models import OutboundSms

log = logging.getLogger(__name__)

CODE_DIGITS = 6
TIMEOUT_SECONDS = 10.0
# Twilio Verify's error codes (https://www.twilio.com/docs/api/errors).
_INVALID_NUMBER = {21211, 21614, 60200, 60205}
_TOO_MANY = {60203, 60212}


class SmsUnavailable(ServiceError):
    status = 503
    code = "sms_unavailable"


@dataclass(frozen=True)
class Started:
    provider: str  # "twilio" or "sandbox"
    provider_sid: str | None  # Twilio's Verification sid
    code_digest: str | None  # the sandbox's own code, keyed digest


def provider() -> str:
    settings = get_settings()
    ready = settings.twilio_enabled and settings.twilio_verify_service_sid
    return "twilio" if ready else "sandbox"


def start(db: Session, *, phone: str, verification_id: str) -> Started:
    """Text a fresh code to phone (E.164)."""
    if provider() == "sandbox":
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        db.add(
            OutboundSms(
                id=new_id("sms"),
                to_phone=phone,
                body=(
                    f"Your PayPortal code is {code}. It expires in 10 minutes. "
                    "Never share it: PayPortal will never ask you for it."
                ),
            )
        )
        return Started("sandbox", None, _digest(code, verification_id))
    try:
        verification = _service().verifications.create(to=phone, channel="sms")
    except TwilioRestException as exc:
        raise _translated(exc) from exc
    except TwilioException as exc:
        raise SmsUnavailable("We could not send a text message right now. Try again.") from exc
    return Started("twilio", verification.sid, None)


def check(
    *, provider_name: str, phone: str, verification_id: str, digest: str | None, code: str
) -> bool:
    """Whether code is the one texted for this verification (Twilio checks its own)."""
    if provider_name == "sandbox":
        return digest is not None and secrets.compare_digest(digest, _digest(code, verification_id))
    try:
        result = _service().verification_checks.create(to=phone, code=code)
    except TwilioRestException as exc:
        if exc.status == 404:  # no pending verification: expired, used up or already approved
            return False
        raise _translated(exc) from exc
    except TwilioException as exc:
        raise SmsUnavailable("We could not check the code right now. Try again.") from exc
    return result.status == "approved"


def _digest(code: str, verification_id: str) -> str:
    return token_digest(code, purpose=f"sms:{verification_id}")


def _translated(exc: TwilioRestException) -> ServiceError:
    log.warning("Twilio Verify answered %s (code %s): %s", exc.status, exc.code, exc.msg)
    if exc.code in _INVALID_NUMBER or exc.status == 400:
        return ValidationFailed(
            "That phone number cannot receive text messages. Check it and try again.",
            param="phone",
        )
    if exc.code in _TOO_MANY or exc.status == 429:
        return RateLimited("Too many codes requested for this number.", retry_after=600)
    return SmsUnavailable("We could not send a text message right now. Try again.")


@lru_cache
def _client(sid: str, token: str, base: str | None) -> Client:
    client = Client(sid, token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    if base:
        client.verify.base_url = base
    return client


def _service():  # type: ignore[no-untyped-def]
    settings = get_settings()
    client = _client(
        settings.twilio_account_sid or "",
        settings.twilio_auth_token or "",
        settings.twilio_api_base,
    )
    return client.verify.v2.services(settings.twilio_verify_service_sid)
