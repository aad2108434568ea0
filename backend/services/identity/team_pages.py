"""The portal's Team page, one unit of work per action: members and pending invitations (times
in the merchant's time zone), inviting, revoking an invitation, changing a role, removing a
member and transferring ownership.

The services underneath check the member's role in the database on every change. E-mails
(the invitation, the ownership notice) are sent once the change has committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.integrations import email
from backend.models import Merchant
from backend.services import labels
from backend.services.identity import invitations, team
from backend.services.identity.permissions import Permission, can
from backend.services.identity.sessions import SessionContext
from backend.services.reporting import audit_log


@dataclass(frozen=True)
class MemberRow:
    id: str  # the membership
    email: str
    name: str
    role: str
    role_label: str
    joined: str
    you: bool


@dataclass(frozen=True)
class InvitationRow:
    id: str
    email: str
    role: str
    role_label: str
    by: str
    expires: str


@dataclass(frozen=True)
class TeamOverview:
    members: list[MemberRow]
    pending: list[InvitationRow]
    can_manage: bool  # what the page offers (a courtesy: every change checks again)
    can_transfer: bool


def overview(ctx: SessionContext) -> TeamOverview:
    """Every member (the owner first) and the pending invitations. Any member may read it."""
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
        tz = merchant.timezone if merchant else "UTC"
        members = team.list_members(db, ctx.merchant_id)
        pending = invitations.pending(db, ctx.merchant_id)
    return TeamOverview(
        members=[
            MemberRow(
                id=m.membership_id,
                email=m.email,
                name=m.full_name,
                role=m.role,
                role_label=labels.role(m.role),
                joined=audit_log.format_time(m.joined_at, tz)[:-3],
                you=m.user_id == ctx.user_id,
            )
            for m in members
        ],
        pending=[
            InvitationRow(
                id=p.id,
                email=p.email,
                role=p.role,
                role_label=labels.role(p.role),
                by=p.invited_by,
                expires=audit_log.format_time(p.expires_at, tz)[:-3],
            )
            for p in pending
        ],
        can_manage=can(ctx.role, Permission.MANAGE_TEAM),
        can_transfer=can(ctx.role, Permission.TRANSFER_OWNERSHIP),
    )


def invite(ctx: SessionContext, address: str, role: str) -> str:
    """Invite someone by e-mail; the sentence the page shows. The e-mail follows the commit."""
    with session_scope() as db:
        _, email_id = invitations.invite(db, ctx, address, role)
    email.send_recorded(email_id)
    return f"Invitation sent to {address.strip()} as {labels.role(role)}."


def revoke_invitation(ctx: SessionContext, invitation_id: str) -> str:
    with session_scope() as db:
        invitations.revoke(db, ctx, invitation_id)
    return "Invitation revoked: its link no longer works."


def change_role(ctx: SessionContext, membership_id: str, role: str) -> str:
    with session_scope() as db:
        team.change_role(db, ctx, membership_id, role)
    return f"Role changed to {labels.role(role)}."


def remove_member(ctx: SessionContext, membership_id: str) -> str:
    """Remove a member (or leave): their sessions for this merchant end."""
    with session_scope() as db:
        team.remove_member(db, ctx, membership_id)
    return "Member removed; their sessions have ended."


def transfer_ownership(ctx: SessionContext, membership_id: str, password: str) -> str:
    """Make another member the owner (the caller becomes an admin); the notice e-mail follows
    the commit."""
    with session_scope() as db:
        email_id = team.transfer_ownership(db, ctx, membership_id, password)
    email.send_recorded(email_id)
    return "Ownership transferred. You are now an admin."
