"""E-mails to a merchant's team about things that need them, as each member chose.

Kinds: a new dispute, a dispute whose evidence is due within DUE_SOON, a refund the gateway
refused. With no stored choice, the owner gets every kind and other members none, so nobody
is e-mailed who never asked and the account is never left without anyone told.

`send_due(db)` runs every few minutes in the job worker (backend/tasks/notifications.py): it
finds what happened and e-mails who wants it, once per object and kind (the e-mail outbox is
the record of what was already sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.core.errors import ValidationFailed
from backend.core.ids import new_id
from backend.integrations import email
from backend.models import (
    Dispute,
    Membership,
    Merchant,
    NotificationPreference,
    OutboundEmail,
    Refund,
    User,
    utcnow,
)
from backend.models.enums import DisputeStatus, RefundStatus, Role
from backend.services import labels

KINDS: dict[str, str] = {
    "dispute_created": "A customer disputes a payment",
    "dispute_due_soon": "Dispute evidence is due within 3 days",
    "refund_failed": "A refund could not be completed",
}
DUE_SOON = timedelta(days=3)
LOOKBACK = timedelta(days=2)  # events older than this are not worth an e-mail any more


@dataclass(frozen=True)
class Choices:
    dispute_created: bool
    dispute_due_soon: bool
    refund_failed: bool

    def as_dict(self) -> dict[str, bool]:
        return {kind: getattr(self, kind) for kind in KINDS}


def _defaults(role: str) -> Choices:
    on = role == Role.OWNER
    return Choices(on, on, on)


def get_choices(db: Session, *, merchant_id: str, user_id: str, role: str) -> Choices:
    row = db.exec(
        select(NotificationPreference).where(
            NotificationPreference.merchant_id == merchant_id,
            NotificationPreference.user_id == user_id,
        )
    ).first()
    if row is None:
        return _defaults(role)
    return Choices(row.dispute_created, row.dispute_due_soon, row.refund_failed)


def set_choices(
    db: Session, *, merchant_id: str, user_id: str, choices: dict[str, object]
) -> Choices:
    unknown = set(choices) - set(KINDS)
    if unknown:
        raise ValidationFailed(f"Unknown notification {sorted(unknown)[0]!r}", param="kind")
    if not all(isinstance(v, bool) for v in choices.values()):
        raise ValidationFailed("Each notification is on or off", param="kind")
    row = db.exec(
        select(NotificationPreference).where(
            NotificationPreference.merchant_id == merchant_id,
            NotificationPreference.user_id == user_id,
        )
    ).first()
    if row is None:
        role = db.exec(
            select(Membership.role).where(
                Membership.merchant_id == merchant_id, Membership.user_id == user_id
            )
        ).first()
        if role is None:
            raise ValidationFailed("Not a member of this account", param="user")
        base = _defaults(role)
        row = NotificationPreference(
            id=new_id("ntf"), merchant_id=merchant_id, user_id=user_id, **base.as_dict()
        )
    for kind, value in choices.items():
        setattr(row, kind, value)
    row.updated_at = utcnow()
    db.add(row)
    return Choices(row.dispute_created, row.dispute_due_soon, row.refund_failed)


def recipients(db: Session, merchant_id: str, kind: str) -> list[str]:
    """E-mail addresses of the members who want this kind of e-mail."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    rows = db.exec(
        select(User.email, Membership.role, NotificationPreference)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .join(
            NotificationPreference,
            (col(NotificationPreference.user_id) == col(User.id))
            & (col(NotificationPreference.merchant_id) == merchant_id),
            isouter=True,
        )
        .where(Membership.merchant_id == merchant_id)
        .order_by(col(Membership.created_at))
    )
    wanted = []
    for address, role, pref in rows:
        choices = _defaults(role) if pref is None else pref
        if getattr(choices, kind):
            wanted.append(address)
    return wanted


def _already_sent(db: Session, merchant_id: str, template: str, object_id: str) -> bool:
    return (
        db.exec(
            select(OutboundEmail.id)
            .where(
                OutboundEmail.merchant_id == merchant_id,
                OutboundEmail.template == template,
                col(OutboundEmail.subject).contains(object_id, autoescape=True),
            )
            .limit(1)
        ).first()
        is not None
    )


def _notify(
    db: Session, merchant_id: str, kind: str, object_id: str, subject: str, text: str
) -> list[str]:
    if _already_sent(db, merchant_id, kind, object_id):
        return []
    sent = []
    for address in recipients(db, merchant_id, kind):
        row = email.record_email(
            db, to=address, subject=subject, text=text, template=kind, merchant_id=merchant_id
        )
        sent.append(row.id)
    return sent


def send_due(db: Session, *, now: datetime | None = None) -> list[str]:
    """Record every notification that is due; the ids of the queued e-mails (send them with
    backend.integrations.email.send_recorded after the commit)."""
    now = now or utcnow()
    queued: list[str] = []
    names = dict(db.exec(select(Merchant.id, Merchant.name)).all())
    for dispute in db.exec(select(Dispute).where(Dispute.created_at >= now - LOOKBACK)):
        amount = format_money(dispute.amount, dispute.currency)
        queued += _notify(
            db,
            dispute.merchant_id,
            "dispute_created",
            dispute.id,
            f"New dispute {dispute.id} for {amount}",
            f"A customer of {names.get(dispute.merchant_id, 'your business')} disputes a "
            f"payment of {amount} ({labels.dispute_reason(dispute.reason).lower()}). "
            "Answer with evidence in the portal under Disputes before the deadline.",
        )
    for dispute in db.exec(
        select(Dispute).where(
            Dispute.status == DisputeStatus.NEEDS_RESPONSE,
            col(Dispute.evidence_due_by) > now,
            col(Dispute.evidence_due_by) <= now + DUE_SOON,
        )
    ):
        assert dispute.evidence_due_by is not None
        queued += _notify(
            db,
            dispute.merchant_id,
            "dispute_due_soon",
            dispute.id,
            f"Evidence for dispute {dispute.id} is due soon",
            f"Evidence for the dispute of {format_money(dispute.amount, dispute.currency)} "
            f"is due by {dispute.evidence_due_by:%d %b %Y %H:%M} UTC. Without it the dispute "
            "is lost.",
        )
    for refund in db.exec(
        select(Refund).where(
            Refund.status == RefundStatus.FAILED,
            Refund.updated_at >= now - LOOKBACK,
        )
    ):
        queued += _notify(
            db,
            refund.merchant_id,
            "refund_failed",
            refund.id,
            f"Refund {refund.id} failed",
            f"The refund of {format_money(refund.amount, refund.currency)} for payment "
            f"{refund.payment_id} could not be completed: {refund.failure_reason or 'refused'}"
            ". The money stayed in your balance; contact the customer to settle it another way.",
        )
    return queued
