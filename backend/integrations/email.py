"""E-mail: every message is recorded in outbound_emails, whichever provider carries it.

With SENDGRID_API_KEY set, the real sendgrid SDK sends it (SENDGRID_API_BASE points the SDK at
another host, such as the local fake in the tests) and the row keeps SendGrid's X-Message-Id.
Without a key the sandbox twin only records it as sent; the demo shows these at /dev/mailbox.

A provider failure is recorded on the row (status "failed" and the error) and never raised: an
e-mail is a side effect, and a payment or a webhook retry must not fail because SendGrid did.

Two ways to send:
- `send_email(db, ...)` records and sends at once, inside the caller's unit of work.
- `record_email(db, ...)` records a "queued" row in the caller's transaction and
  `send_recorded(email_id)` sends it after that transaction has committed, so no database lock
  is held while SendGrid answers (the webhook worker uses this).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, CustomArg, Mail
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import OutboundEmail, utcnow

log = logging.getLogger(__name__)

SENDGRID_DEFAULT_HOST = "https://api.sendgrid.com"
# The SDK (urllib underneath) waits forever unless told otherwise.
SEND_TIMEOUT_SECONDS = 10.0
_MAX_ERROR = 500


def record_email(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str,
    merchant_id: str | None = None,
    now: datetime | None = None,
) -> OutboundEmail:
    """A "queued" e-mail in the caller's transaction; send it with send_recorded() after."""
    email = OutboundEmail(
        id=new_id("eml"),
        merchant_id=merchant_id,
        to_email=to,
        subject=subject[:300],
        text_body=text,
        html_body=html,
        template=template,
        provider="sendgrid" if get_settings().sendgrid_enabled else "sandbox",
        status="queued",
        created_at=now or utcnow(),
    )
    db.add(email)
    return email


def send_email(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str,
    merchant_id: str | None = None,
    now: datetime | None = None,
) -> OutboundEmail:
    """Record the e-mail and send it now; the row says whether it went."""
    email = record_email(
        db,
        to=to,
        subject=subject,
        text=text,
        html=html,
        template=template,
        merchant_id=merchant_id,
        now=now,
    )
    _transmit(email)
    db.add(email)
    return email


def send_recorded(email_id: str, *, engine: Engine | None = None) -> OutboundEmail | None:
    """Send a queued e-mail whose transaction has committed (on `engine`, the app's database
    by default). None if it is not queued."""
    with session_scope(engine, readonly=True) as db:
        email = db.get(OutboundEmail, email_id)
    if email is None or email.status != "queued":
        return None
    _transmit(email)  # the provider call holds no database lock
    with session_scope(engine) as db:
        db.exec(
            update(OutboundEmail)
            .where(col(OutboundEmail.id) == email_id, col(OutboundEmail.status) == "queued")
            .values(
                status=email.status,
                provider_message_id=email.provider_message_id,
                error=email.error,
                sent_at=email.sent_at,
            )
        )
    return email


def list_mailbox(db: Session, limit: int = 50) -> list[OutboundEmail]:
    """The newest e-mails first (the demo's /dev/mailbox)."""
    query = select(OutboundEmail).order_by(col(OutboundEmail.created_at).desc()).limit(limit)
    return list(db.exec(query).all())


def _transmit(email: OutboundEmail) -> None:
    """Hand the e-mail to its provider and write the outcome on the row (never raises)."""
    if email.provider == "sandbox":
        email.provider_message_id = f"sbx_{secrets.token_hex(8)}"
        email.status, email.sent_at = "sent", utcnow()
        return
    try:
        response = _sendgrid_client().send(_message(email))
    except HTTPError as exc:
        detail = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
        _failed(email, f"SendGrid answered {exc.status_code}: {detail}")
    except Exception as exc:  # a network error, a timeout: recorded, never raised into callers
        _failed(email, f"SendGrid unreachable: {type(exc).__name__}: {exc}")
    else:
        email.provider_message_id = response.headers.get("X-Message-Id")
        email.status, email.sent_at = "sent", utcnow()


def _failed(email: OutboundEmail, error: str) -> None:
    log.warning("e-mail %s (%s) not sent: %s", email.id, email.template, error)
    email.status, email.error = "failed", error[:_MAX_ERROR]


def _sendgrid_client() -> SendGridAPIClient:
    settings = get_settings()
    client = SendGridAPIClient(
        settings.sendgrid_api_key, host=settings.sendgrid_api_base or SENDGRID_DEFAULT_HOST
    )
    client.client.timeout = SEND_TIMEOUT_SECONDS  # inherited by the SDK's per-path clients
    return client


def _message(email: OutboundEmail) -> Mail:
    message = Mail(
        from_email=get_settings().sendgrid_from_email,
        to_emails=email.to_email,
        subject=email.subject,
        plain_text_content=email.text_body,
        html_content=email.html_body,
    )
    message.category = Category(email.template)
    # Lets SendGrid's event webhook (bounces, opens) be matched back to this row later.
    message.custom_arg = CustomArg("email_id", email.id)
    return message
