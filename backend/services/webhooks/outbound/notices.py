"""E-mails to a merchant's owner about its webhooks: deliveries failing (at most one a day per
endpoint) and an endpoint disabled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.integrations import email
from backend.models import Membership, Merchant, OutboundEmail, User, WebhookEndpoint
from backend.models.enums import Role
from backend.services.webhooks.outbound.schedule import DISABLE_AFTER, RETRY_WINDOW

FAILURE_EMAIL_EVERY = timedelta(days=1)  # at most one "deliveries failing" e-mail per endpoint


def _owner_email(db: Session, merchant_id: str) -> str:
    owner = db.exec(
        select(User.email)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.merchant_id == merchant_id, Membership.role == Role.OWNER)
        .order_by(col(Membership.created_at))
        .limit(1)
    ).first()
    if owner:
        return owner
    merchant = db.get(Merchant, merchant_id)
    return merchant.support_email if merchant else get_settings().sendgrid_from_email


def notify_failing(db: Session, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    template = "webhook_delivery_failed"
    # The endpoint's id is in the subject: that is how "one per endpoint per day" is found.
    recent = db.exec(
        select(OutboundEmail.id)
        .where(
            OutboundEmail.merchant_id == endpoint.merchant_id,
            OutboundEmail.template == template,
            col(OutboundEmail.created_at) > now - FAILURE_EMAIL_EVERY,
            col(OutboundEmail.subject).contains(endpoint.id, autoescape=True),
        )
        .limit(1)
    ).first()
    if recent:
        return []
    row = email.record_email(
        db,
        to=_owner_email(db, endpoint.merchant_id),
        subject=f"Webhook deliveries to endpoint {endpoint.id} are failing",
        text=(
            f"We could not deliver events to {endpoint.url} for {RETRY_WINDOW.days} days and "
            "have stopped retrying them. Check the endpoint's delivery log in the portal, fix "
            "the endpoint, then redeliver the failed events."
        ),
        template=template,
        merchant_id=endpoint.merchant_id,
        now=now,
    )
    return [row.id]


def notify_disabled(db: Session, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    row = email.record_email(
        db,
        to=_owner_email(db, endpoint.merchant_id),
        subject=f"Webhook endpoint {endpoint.id} has been disabled",
        text=(
            f"Every delivery to {endpoint.url} has failed for {DISABLE_AFTER.days} days, so the "
            "endpoint is now disabled and receives no events. Fix it, enable it again in the "
            "portal, then redeliver the failed events."
        ),
        template="webhook_endpoint_disabled",
        merchant_id=endpoint.merchant_id,
        now=now,
    )
    return [row.id]
