"""A merchant's team: who is in it with which role, changing roles, removing, handing over.

The rules, beyond the permission matrix (backend/services/permissions.py):
- there is exactly one owner; ownership moves only by transfer, which the owner alone starts
  (confirming their password) and which makes the previous owner an admin;
- nobody changes the owner's role or removes the owner, and nobody makes anyone an owner by a
  role change, so an admin can never take the account over;
- nobody changes their own role (ask another admin); anyone but the owner may leave;
- a removed member's sessions for this merchant end at once.
Every change writes an audit row. Roles are read from the database, locked, on every call: a
role in a page's memory is only used to decide what to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.core.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from backend.core.security import verify_password
from backend.models import Membership, Merchant, User, utcnow
from backend.models.enums import ActorType, Role
from backend.services import audit
from backend.services.identity import email_verification, sessions
from backend.services.identity.emails import app_link, record_notice_email
from backend.services.identity.permissions import Permission, require

ASSIGNABLE_ROLES = [Role.ADMIN, Role.DEVELOPER, Role.ANALYST, Role.SUPPORT]


@dataclass(frozen=True)
class Member:
    membership_id: str
    user_id: str
    email: str
    full_name: str
    role: str
    joined_at: datetime


def list_members(db: Session, merchant_id: str) -> list[Member]:
    """Every member, the owner first, then by when they joined. Any member may read it."""
    rows = db.exec(
        select(Membership, User.email, User.full_name)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.merchant_id == merchant_id)
        .order_by(col(Membership.created_at))
    ).all()
    members = [
        Member(m.id, m.user_id, email, name, m.role, m.created_at) for m, email, name in rows
    ]
    return sorted(members, key=lambda m: m.role != Role.OWNER)


def membership_of(db: Session, merchant_id: str, user_id: str, *, lock: bool = True) -> Membership:
    """The caller's own membership, locked: NotFound if they have left the team meanwhile."""
    query = select(Membership).where(
        Membership.merchant_id == merchant_id, Membership.user_id == user_id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    membership = db.exec(query).first()
    if membership is None:
        raise NotFound("You are no longer a member of this account")
    return membership


def _target(db: Session, merchant_id: str, membership_id: object) -> Membership:
    if not isinstance(membership_id, str) or len(membership_id) > 40:
        raise NotFound("No such team member", param="membership_id")
    membership = db.exec(
        select(Membership)
        .where(Membership.id == membership_id, Membership.merchant_id == merchant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if membership is None:
        raise NotFound("No such team member", param="membership_id")
    return membership


def _email_of(db: Session, user_id: str) -> str:
    user = db.get(User, user_id)
    return user.email if user else user_id


def parse_assignable_role(role: object) -> Role:
    if role == Role.OWNER:
        raise PermissionDenied(
            "There is one owner: the owner hands the account over with 'Transfer ownership'",
            param="role",
        )
    try:
        parsed = Role(str(role))
    except ValueError:
        raise ValidationFailed(
            f"Choose a role: {', '.join(ASSIGNABLE_ROLES)}", param="role"
        ) from None
    return parsed


def change_role(
    db: Session, ctx: sessions.SessionContext, membership_id: object, role: object
) -> Membership:
    actor = membership_of(db, ctx.merchant_id, ctx.user_id)
    require(actor.role, Permission.MANAGE_TEAM)
    new_role = parse_assignable_role(role)
    target = _target(db, ctx.merchant_id, membership_id)
    if target.role == Role.OWNER:
        raise PermissionDenied(
            "The owner's role changes only when they transfer ownership", param="membership_id"
        )
    if target.user_id == ctx.user_id:
        raise PermissionDenied("You cannot change your own role: ask another admin")
    if target.role == new_role:
        return target
    previous = target.role
    target.role = new_role
    db.add(target)
    audit.record(
        db,
        action="member.role_changed",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="membership",
        object_id=target.id,
        details={"email": _email_of(db, target.user_id), "from": previous, "to": new_role},
    )
    return target


def remove_member(db: Session, ctx: sessions.SessionContext, membership_id: object) -> None:
    """Remove a member (or leave, for yourself); their sessions for this merchant end."""
    actor = membership_of(db, ctx.merchant_id, ctx.user_id)
    target = _target(db, ctx.merchant_id, membership_id)
    leaving = target.user_id == ctx.user_id
    if target.role == Role.OWNER:
        raise PermissionDenied(
            "You are the owner: transfer ownership to another member before you leave"
            if leaving
            else "The owner cannot be removed",
            param="membership_id",
        )
    if not leaving:
        require(actor.role, Permission.MANAGE_TEAM)
    email = _email_of(db, target.user_id)
    ended = sessions.revoke_all(db, target.user_id, merchant_id=ctx.merchant_id)
    db.delete(target)
    audit.record(
        db,
        action="member.left" if leaving else "member.removed",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="membership",
        object_id=target.id,
        details={"email": email, "role": target.role, "sessions_signed_out": ended},
    )


def transfer_ownership(
    db: Session, ctx: sessions.SessionContext, membership_id: object, password: object
) -> str:
    """Make another member the owner; the caller becomes an admin. The notice e-mail's id."""
    actor = membership_of(db, ctx.merchant_id, ctx.user_id)
    require(actor.role, Permission.TRANSFER_OWNERSHIP)
    owner = db.get(User, ctx.user_id)
    ok, _ = verify_password(
        password if isinstance(password, str) else "", owner.password_hash if owner else ""
    )
    if not ok:
        raise AuthenticationFailed("That is not your password", param="password")
    email_verification.require_verified(db, ctx.user_id)
    target = _target(db, ctx.merchant_id, membership_id)
    if target.user_id == ctx.user_id:
        raise ValidationFailed(
            "Choose another member to hand the account to", param="membership_id"
        )
    new_owner = db.get(User, target.user_id)
    if new_owner is None or new_owner.email_verified_at is None:
        raise PermissionDenied(
            "The new owner must have confirmed their e-mail address first", param="membership_id"
        )
    previous_role = target.role
    target.role, actor.role = Role.OWNER, Role.ADMIN
    db.add(target)
    db.add(actor)
    merchant = db.get(Merchant, ctx.merchant_id)
    now = utcnow()
    if merchant is not None:
        merchant.updated_at = now
        db.add(merchant)
    audit.record(
        db,
        action="ownership.transferred",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="membership",
        object_id=target.id,
        details={
            "from": owner.email if owner else ctx.user_id,
            "to": new_owner.email,
            "new_owner_previous_role": previous_role,
        },
    )
    notice = record_notice_email(
        db,
        to=new_owner.email,
        subject=f"You now own {merchant.name if merchant else 'a'} PayPortal account",
        paragraphs=[
            f"{ctx.email} has transferred ownership of "
            f"{merchant.name if merchant else 'their account'} on PayPortal to you. "
            f"{ctx.email} is now an admin.",
            f"Sign in to review your team and payout details: {app_link('/team')}",
        ],
        template="ownership_transferred",
        merchant_id=ctx.merchant_id,
    )
    return notice.id
