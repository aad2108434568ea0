"""Inviting people to a merchant's team by e-mail.

An invitation carries a role (never owner) and a single-use link valid for 7 days; only the
link's keyed digest is stored. Accepting it either creates the person's account (they choose a
password; the link proved the address) or, when an account with that address exists, attaches
it after the person signs in with their password. Inviting again replaces the pending
invitation; an invitation can be revoked until it is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from backend.core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from backend.core.ids import new_id
from backend.core.security import hash_password, random_token, token_digest
from backend.models import Invitation, Membership, Merchant, User, utcnow
from backend.models.enums import ActorType
from backend.services import audit, labels
from backend.services.identity import email_verification, sessions, team
from backend.services.identity.accounts import check_password_strength, normalise_email
from backend.services.identity.emails import app_link, record_link_email
from backend.services.identity.permissions import Permission, require

LIFETIME = timedelta(days=7)
MAX_PER_DAY = 25  # per merchant: invitations are e-mails to strangers, keep spam out
INVALID = "This invitation has expired, was revoked or was already used. Ask for a new one."


def _digest(token: str) -> str:
    return token_digest(token, purpose="invitation")


@dataclass(frozen=True)
class PendingInvitation:
    id: str
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class InvitationView:
    """What the acceptance page shows before the person acts."""

    merchant_name: str
    email: str
    role: str
    invited_by: str
    account_exists: bool


def invite(
    db: Session, ctx: sessions.SessionContext, email: object, role: object
) -> tuple[Invitation, str]:
    """(invitation, id of its e-mail); send the e-mail after the caller commits."""
    actor = team.membership_of(db, ctx.merchant_id, ctx.user_id)
    require(actor.role, Permission.MANAGE_TEAM)
    email_verification.require_verified(db, ctx.user_id)
    address = normalise_email(email)
    new_role = team.parse_assignable_role(role)
    member = db.exec(
        select(Membership.id)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.merchant_id == ctx.merchant_id, User.email == address)
    ).first()
    if member:
        raise Conflict(f"{address} is already on the team", param="email", code="already_member")
    now = utcnow()
    sent_today = db.exec(
        select(func.count()).where(
            col(Invitation.merchant_id) == ctx.merchant_id,
            col(Invitation.created_at) > now - timedelta(days=1),
        )
    ).one()
    if sent_today >= MAX_PER_DAY:
        raise RateLimited(
            f"You have sent {MAX_PER_DAY} invitations in the last 24 hours; try again tomorrow.",
            retry_after=3600,
        )
    # Inviting again replaces what was pending for that address.
    db.exec(
        update(Invitation)
        .where(
            col(Invitation.merchant_id) == ctx.merchant_id,
            col(Invitation.email) == address,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    token = random_token(40)
    invitation = Invitation(
        id=new_id("inv"),
        merchant_id=ctx.merchant_id,
        email=address,
        role=new_role,
        token_digest=_digest(token),
        invited_by_user_id=ctx.user_id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.add(invitation)
    audit.record(
        db,
        action="invitation.created",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="invitation",
        object_id=invitation.id,
        details={"email": address, "role": new_role},
    )
    merchant = db.get(Merchant, ctx.merchant_id)
    merchant_name = merchant.name if merchant else "a merchant"
    message = record_link_email(
        db,
        to=address,
        subject=f"{ctx.email} invited you to {merchant_name} on PayPortal",
        paragraphs=[
            f"{ctx.email} invited you to join {merchant_name} on PayPortal as "
            f"{labels.role(new_role).lower()}.",
            f"The invitation works once and expires in {LIFETIME.days} days.",
        ],
        action="Accept the invitation",
        url=app_link("/accept-invite", token=token),
        footer="If you were not expecting this, ignore this e-mail.",
        template="team_invitation",
        merchant_id=ctx.merchant_id,
    )
    return invitation, message.id


def pending(db: Session, merchant_id: str) -> list[PendingInvitation]:
    now = utcnow()
    rows = db.exec(
        select(Invitation, User.email)
        .join(User, col(User.id) == col(Invitation.invited_by_user_id), isouter=True)
        .where(
            Invitation.merchant_id == merchant_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .order_by(col(Invitation.created_at).desc())
    ).all()
    return [
        PendingInvitation(i.id, i.email, i.role, by or "—", i.created_at, i.expires_at)
        for i, by in rows
    ]


def revoke(db: Session, ctx: sessions.SessionContext, invitation_id: object) -> Invitation:
    actor = team.membership_of(db, ctx.merchant_id, ctx.user_id)
    require(actor.role, Permission.MANAGE_TEAM)
    invitation = (
        db.get(Invitation, invitation_id)
        if isinstance(invitation_id, str) and len(invitation_id) <= 40
        else None
    )
    if invitation is None or invitation.merchant_id != ctx.merchant_id:
        raise NotFound("No such invitation", param="invitation_id")
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict("This invitation is no longer pending", param="invitation_id")
    invitation.revoked_at = utcnow()
    db.add(invitation)
    audit.record(
        db,
        action="invitation.revoked",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="invitation",
        object_id=invitation.id,
        details={"email": invitation.email, "role": invitation.role},
    )
    return invitation


def _open_invitation(db: Session, token: object, now: datetime) -> Invitation:
    if not isinstance(token, str) or not token or len(token) > 200:
        raise ValidationFailed(INVALID, param="token", code="invalid_link")
    invitation = db.exec(
        select(Invitation).where(Invitation.token_digest == _digest(token))
    ).first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise ValidationFailed(INVALID, param="token", code="invalid_link")
    return invitation


def look_up(db: Session, token: object) -> InvitationView:
    invitation = _open_invitation(db, token, utcnow())
    merchant = db.get(Merchant, invitation.merchant_id)
    inviter = db.get(User, invitation.invited_by_user_id) if invitation.invited_by_user_id else None
    exists = db.exec(select(User.id).where(User.email == invitation.email)).first() is not None
    return InvitationView(
        merchant_name=merchant.name if merchant else "",
        email=invitation.email,
        role=invitation.role,
        invited_by=inviter.email if inviter else "",
        account_exists=exists,
    )


def _claim(db: Session, invitation: Invitation, user_id: str, now: datetime) -> None:
    """Mark the invitation accepted exactly once, even when two tabs accept it together."""
    claimed = db.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(accepted_at=now, accepted_user_id=user_id)
    )
    if claimed.rowcount != 1:
        raise ValidationFailed(INVALID, param="token", code="invalid_link")


def _join(
    db: Session,
    invitation: Invitation,
    user: User,
    *,
    ip_address: str | None,
    user_agent: str | None,
) -> str:
    """Make the user a member; the new session's token, or "" when the account has two-factor
    authentication and must sign in with it."""
    now = utcnow()
    already = db.exec(
        select(Membership.id).where(
            Membership.merchant_id == invitation.merchant_id, Membership.user_id == user.id
        )
    ).first()
    if already:
        raise Conflict("You are already on this team: sign in instead", code="already_member")
    _claim(db, invitation, user.id, now)
    membership = Membership(
        id=new_id("mem"),
        merchant_id=invitation.merchant_id,
        user_id=user.id,
        role=invitation.role,
        created_at=now,
    )
    db.add(membership)
    audit.record(
        db,
        action="invitation.accepted",
        merchant_id=invitation.merchant_id,
        actor_type=ActorType.USER,
        actor_id=user.id,
        object_type="membership",
        object_id=membership.id,
        ip_address=ip_address,
        details={"email": user.email, "role": invitation.role, "invitation": invitation.id},
    )
    if user.totp_enabled_at is not None:
        # A password alone never opens a session for a two-factor account: they sign in.
        return ""
    token, _ = sessions.start_session(
        db,
        user_id=user.id,
        merchant_id=invitation.merchant_id,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return token


def accept_with_new_account(
    db: Session,
    token: object,
    *,
    password: object,
    full_name: object = "",
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Create the invited person's account and sign them in: the session token."""
    invitation = _open_invitation(db, token, utcnow())
    if db.exec(select(User.id).where(User.email == invitation.email)).first():
        raise Conflict(
            "An account with this address exists: sign in with its password to accept",
            code="account_exists",
        )
    password = check_password_strength(password, email=invitation.email)
    name = full_name.strip()[:200] if isinstance(full_name, str) else ""
    now = utcnow()
    user = User(
        id=new_id("usr"),
        email=invitation.email,
        full_name=name,
        password_hash=hash_password(password),
        email_verified_at=now,  # the invitation link reached this mailbox
        created_at=now,
        updated_at=now,
    )
    db.add(user)
    db.flush()
    return _join(db, invitation, user, ip_address=ip_address, user_agent=user_agent)


def accept_with_existing_account(
    db: Session,
    token: object,
    *,
    password: object,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Attach the invited address's existing account after its password: the session token."""
    invitation = _open_invitation(db, token, utcnow())
    try:
        user = sessions.authenticate(
            db, email=invitation.email, password=password, ip_address=ip_address
        )
    except AuthenticationFailed:
        raise AuthenticationFailed(
            f"That is not the password of {invitation.email}", param="password"
        ) from None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the invitation link reached this mailbox
        db.add(user)
    return _join(db, invitation, user, ip_address=ip_address, user_agent=user_agent)
