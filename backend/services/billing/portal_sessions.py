"""Billing portal sessions: a signed, expiring link for one customer to their billing portal.

The merchant (REST API) or the dunning e-mails make one for a customer of theirs; the customer
opens `{APP_URL}/billing/{secret}` without signing in and can update the card, see and download
invoices, pay an open one, and cancel when the merchant allows it. The link is the capability:
the secret is 32 random bytes, and only its SHA-256 is stored (a database read gives nobody a
working link). It lasts 24 hours of real time, whatever a test clock says: it is a browser
link, not billing's time. A test-mode session is made with a test key for a test customer
only (the scope's mode), and another merchant's customer is not found (404, ids do not leak).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.errors import NotFound
from backend.core.ids import new_id
from backend.core.url_text import redirect_url
from backend.models import BillingPortalSession, Customer, utcnow
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.customers import records
from backend.services.representations import timestamp

TTL = timedelta(hours=24)
# A link e-mailed after a failed renewal lasts until the retries are over (7 days by default).
EMAILED_TTL = timedelta(days=7)
SECRET_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_SECRET_LENGTH = 64


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def portal_url(secret: str) -> str:
    return f"{get_settings().app_url.rstrip('/')}/billing/{secret}"


def create_session(
    db: Session,
    scope: Scope,
    customer_id: str,
    return_url: object = None,
    *,
    lifetime: timedelta = TTL,
    actor: Actor = SYSTEM,
) -> tuple[BillingPortalSession, str]:
    """A new portal session for the merchant's customer and the link to it (shown only here:
    the secret is not kept). NotFound for another merchant's or mode's customer, or a deleted
    one; ValidationFailed for a return URL that is not an absolute http(s) URL."""
    url = redirect_url(return_url, "returnUrl", required=False)
    customer = records.get_customer(db, scope, customer_id)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    session = BillingPortalSession(
        id=new_id("bps"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer.id,
        return_url=url,
        secret_hash=_digest(secret),
        expires_at=now + lifetime,
        created_at=now,
    )
    db.add(session)
    db.flush()
    audit.record_by(
        db,
        actor,
        "billing_portal.session.created",
        session,
        "billing_portal.session",
        {"customer": customer.id},
    )
    return session, portal_url(secret)


@dataclass(frozen=True)
class OpenPortal:
    """A live session and its customer: what the portal page may show."""

    session: BillingPortalSession
    customer: Customer

    @property
    def scope(self) -> Scope:
        return Scope(self.session.merchant_id, self.session.livemode)


def open_session(db: Session, secret: str) -> OpenPortal:
    """The session a link's secret opens, while it lasts and its customer exists; NotFound
    otherwise (unknown, expired, or the customer deleted: the page says the same)."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET_LENGTH:
        raise NotFound("No such billing portal session")
    digest = _digest(secret)
    session = db.exec(
        select(BillingPortalSession).where(BillingPortalSession.secret_hash == digest)
    ).first()
    # The lookup is by an index; the comparison is constant-time all the same.
    if session is None or not hmac.compare_digest(session.secret_hash, digest):
        raise NotFound("No such billing portal session")
    if utcnow() >= session.expires_at:
        raise NotFound("This billing portal session has expired", code="session_expired")
    scope = Scope(session.merchant_id, session.livemode)
    customer = records.get_customer(db, scope, session.customer_id)
    return OpenPortal(session, customer)


def session_to_dict(session: BillingPortalSession, url: str) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "billing_portal.session",
        "livemode": session.livemode,
        "url": url,
        "customerId": session.customer_id,
        "returnUrl": session.return_url,
        "expiresAt": timestamp(session.expires_at),
        "createdAt": timestamp(session.created_at),
    }
