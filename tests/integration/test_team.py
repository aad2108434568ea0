"""The team: invitations, roles, removal and ownership transfer, on SQLite and PostgreSQL.
Every rule is enforced by the service layer whatever the page shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from backend.integrations import email
from backend.models import AuditLog, Invitation, Membership, User, utcnow
from backend.services.identity import invitations, sessions, team
from tests.integration.identity_support import (
    PASSWORD,
    context,
    link_token,
    sign_up,
    unique_email,
)

pytestmark = pytest.mark.usefixtures("configured_app")
MEMBER_PASSWORD = "member passphrase 42"


def _invite(ctx: sessions.SessionContext, address: str, role: str) -> str:
    with session_scope() as db:
        _, email_id = invitations.invite(db, ctx, address, role)
    email.send_recorded(email_id)
    return link_token(address, "team_invitation")


def _join(ctx: sessions.SessionContext, role: str) -> tuple[str, sessions.SessionContext]:
    address = unique_email(role)
    link = _invite(ctx, address, role)
    with session_scope() as db:
        token = invitations.accept_with_new_account(db, link, password=MEMBER_PASSWORD)
    return token, context(token)


def _membership(ctx: sessions.SessionContext) -> str:
    with session_scope(readonly=True) as db:
        return db.exec(
            select(Membership.id).where(
                Membership.merchant_id == ctx.merchant_id, Membership.user_id == ctx.user_id
            )
        ).one()


def _audit(merchant_id: str, action: str) -> list[AuditLog]:
    with session_scope(readonly=True) as db:
        return list(
            db.exec(
                select(AuditLog).where(
                    AuditLog.merchant_id == merchant_id, AuditLog.action == action
                )
            )
        )


def test_invitation_creates_the_account_with_its_role_and_works_once() -> None:
    _, owner = sign_up()
    address = unique_email("analyst")
    link = _invite(owner, address, "analyst")
    with session_scope(readonly=True) as db:
        view = invitations.look_up(db, link)
        stored = db.exec(select(Invitation).where(Invitation.email == address)).one()
    assert (view.email, view.role, view.invited_by, view.account_exists) == (
        address,
        "analyst",
        owner.email,
        False,
    )
    assert link not in stored.token_digest
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    with session_scope() as db, pytest.raises(ValidationFailed, match="at least 10"):
        invitations.accept_with_new_account(db, link, password="short")
    with session_scope() as db, pytest.raises(ValidationFailed, match="very common password"):
        invitations.accept_with_new_account(db, link, password="password12")
    with session_scope() as db:
        token = invitations.accept_with_new_account(
            db, link, password=MEMBER_PASSWORD, full_name="Ana Lyst"
        )
    member = context(token)
    assert (member.merchant_id, member.role, member.email_verified) == (
        owner.merchant_id,
        "analyst",
        True,
    )
    with session_scope() as db, pytest.raises(ValidationFailed, match="already used"):
        invitations.accept_with_new_account(db, link, password=MEMBER_PASSWORD)
    assert _audit(owner.merchant_id, "invitation.created")
    assert _audit(owner.merchant_id, "invitation.accepted")[0].actor_id == member.user_id


def test_an_existing_account_joins_with_its_own_password() -> None:
    _, owner = sign_up()
    other_token, other_merchant_owner = sign_up()
    link = _invite(owner, other_merchant_owner.email, "developer")
    with session_scope(readonly=True) as db:
        assert invitations.look_up(db, link).account_exists
    with session_scope() as db, pytest.raises(Conflict, match="sign in with its password"):
        invitations.accept_with_new_account(db, link, password=MEMBER_PASSWORD)
    with session_scope() as db, pytest.raises(AuthenticationFailed, match="not the password"):
        invitations.accept_with_existing_account(db, link, password="not my password")
    with session_scope() as db:
        token = invitations.accept_with_existing_account(db, link, password=PASSWORD)
    joined = context(token)
    assert (joined.user_id, joined.merchant_id, joined.role) == (
        other_merchant_owner.user_id,
        owner.merchant_id,
        "developer",
    )
    assert context(other_token).merchant_id == other_merchant_owner.merchant_id


def test_invitation_rules() -> None:
    _, owner = sign_up()
    _, analyst = _join(owner, "analyst")
    with session_scope() as db, pytest.raises(PermissionDenied, match="Analyst"):
        invitations.invite(db, analyst, unique_email(), "support")
    with session_scope() as db, pytest.raises(PermissionDenied, match="one owner"):
        invitations.invite(db, owner, unique_email(), "owner")
    with session_scope() as db, pytest.raises(ValidationFailed, match="Choose a role"):
        invitations.invite(db, owner, unique_email(), "superuser")
    with session_scope() as db, pytest.raises(Conflict, match="already on the team"):
        invitations.invite(db, owner, analyst.email.upper(), "support")
    _, unverified = sign_up(verified=False)
    with session_scope() as db, pytest.raises(PermissionDenied, match="Confirm your e-mail"):
        invitations.invite(db, unverified, unique_email(), "support")


def test_inviting_again_replaces_and_revoking_stops_the_link() -> None:
    _, owner = sign_up()
    address = unique_email()
    first = _invite(owner, address, "support")
    second = _invite(owner, address, "admin")
    with session_scope(readonly=True) as db:
        with pytest.raises(ValidationFailed):
            invitations.look_up(db, first)
        assert invitations.look_up(db, second).role == "admin"
        [pending] = invitations.pending(db, owner.merchant_id)
    _, stranger = sign_up()
    with session_scope() as db, pytest.raises(NotFound):
        invitations.revoke(db, stranger, pending.id)  # another merchant's id: 404
    with session_scope() as db:
        invitations.revoke(db, owner, pending.id)
    with session_scope() as db, pytest.raises(ValidationFailed, match="revoked"):
        invitations.accept_with_new_account(db, second, password=MEMBER_PASSWORD)
    with session_scope(readonly=True) as db:
        assert invitations.pending(db, owner.merchant_id) == []
        assert db.exec(select(User).where(User.email == address)).first() is None


def test_expired_invitation_is_refused() -> None:
    _, owner = sign_up()
    address = unique_email()
    link = _invite(owner, address, "support")
    with session_scope() as db:
        row = db.exec(select(Invitation).where(Invitation.email == address)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    with session_scope() as db, pytest.raises(ValidationFailed, match="expired"):
        invitations.accept_with_new_account(db, link, password=MEMBER_PASSWORD)


def test_role_changes_follow_the_rules() -> None:
    _, owner = sign_up()
    _, admin = _join(owner, "admin")
    _, support = _join(owner, "support")
    owner_membership, admin_membership = _membership(owner), _membership(admin)
    support_membership = _membership(support)

    with session_scope() as db:
        team.change_role(db, admin, support_membership, "analyst")
    assert context_role(support) == "analyst"
    with session_scope() as db, pytest.raises(PermissionDenied, match="one owner"):
        team.change_role(db, admin, support_membership, "owner")
    with session_scope() as db, pytest.raises(PermissionDenied, match="owner's role"):
        team.change_role(db, admin, owner_membership, "analyst")
    with session_scope() as db, pytest.raises(PermissionDenied, match="your own role"):
        team.change_role(db, admin, admin_membership, "developer")
    with session_scope() as db, pytest.raises(PermissionDenied, match="Analyst"):
        team.change_role(db, support_as(support), admin_membership, "analyst")
    _, stranger = sign_up()
    with session_scope() as db, pytest.raises(NotFound):
        team.change_role(db, stranger, support_membership, "support")
    [changed] = _audit(owner.merchant_id, "member.role_changed")
    assert changed.details == {"email": support.email, "from": "support", "to": "analyst"}
    assert changed.actor_id == admin.user_id


def context_role(ctx: sessions.SessionContext) -> str:
    with session_scope(readonly=True) as db:
        return db.exec(
            select(Membership.role).where(
                Membership.merchant_id == ctx.merchant_id, Membership.user_id == ctx.user_id
            )
        ).one()


def support_as(ctx: sessions.SessionContext) -> sessions.SessionContext:
    """The same person; the role in a context is never trusted: the database's is used."""
    return sessions.SessionContext(**{**ctx.__dict__, "role": "owner"})


def test_removal_ends_sessions_and_never_removes_the_owner() -> None:
    _, owner = sign_up()
    admin_token, admin = _join(owner, "admin")
    support_token, support = _join(owner, "support")
    with session_scope() as db, pytest.raises(PermissionDenied, match="owner cannot be removed"):
        team.remove_member(db, admin, _membership(owner))
    with session_scope() as db, pytest.raises(PermissionDenied, match="transfer ownership"):
        team.remove_member(db, owner, _membership(owner))
    with session_scope() as db, pytest.raises(PermissionDenied):
        team.remove_member(db, support, _membership(admin))
    with session_scope() as db:
        team.remove_member(db, admin, _membership(support))
    with session_scope(readonly=True) as db:
        assert sessions.resolve(db, support_token) is None
    # Anyone but the owner may leave.
    admin_membership = _membership(admin)
    with session_scope() as db:
        team.remove_member(db, admin, admin_membership)
    with session_scope(readonly=True) as db:
        assert sessions.resolve(db, admin_token) is None
    assert _audit(owner.merchant_id, "member.removed")
    assert _audit(owner.merchant_id, "member.left")


def test_transfer_of_ownership() -> None:
    owner_token, owner = sign_up()
    _, admin = _join(owner, "admin")
    with session_scope() as db, pytest.raises(PermissionDenied, match="admin"):
        team.transfer_ownership(db, admin, _membership(admin), MEMBER_PASSWORD)
    with session_scope() as db, pytest.raises(AuthenticationFailed, match="not your password"):
        team.transfer_ownership(db, owner, _membership(admin), "wrong password!")
    with session_scope() as db, pytest.raises(ValidationFailed, match="another member"):
        team.transfer_ownership(db, owner, _membership(owner), PASSWORD)
    with session_scope() as db:
        team.transfer_ownership(db, owner, _membership(admin), PASSWORD)
    assert context(owner_token).role == "admin"
    assert context_role(admin) == "owner"
    [moved] = _audit(owner.merchant_id, "ownership.transferred")
    assert moved.details["to"] == admin.email
    # The former owner, now an admin, cannot take it back.
    with session_scope() as db, pytest.raises(PermissionDenied):
        team.transfer_ownership(db, owner, _membership(owner), PASSWORD)
    with session_scope(readonly=True) as db:
        roles = sorted(m.role for m in team.list_members(db, owner.merchant_id))
    assert roles == ["admin", "owner"]
