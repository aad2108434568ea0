"""The Team page: members, pending invitations, role changes, removal, ownership transfer.

What the page shows depends on the role (a courtesy); every handler calls a service function
that checks the role in the database again and refuses what the matrix does not allow.
"""

from __future__ import annotations

import reflex as rx

from backend.core.db import session_scope
from backend.core.errors import ServiceError
from backend.integrations import email
from backend.models import Merchant
from backend.services import labels
from backend.services.identity import invitations, sessions, team
from backend.services.identity.permissions import Permission, can
from backend.services.reporting import audit_log
from portal.state.auth import AuthState


class TeamState(AuthState):
    members: list[dict[str, str]] = []
    pending: list[dict[str, str]] = []
    can_manage: bool = False
    can_transfer: bool = False
    loaded: bool = False
    message: str = ""
    error: str = ""
    invite_pending: bool = False
    invite_role: str = "developer"
    transfer_target: str = ""
    transfer_error: str = ""
    transfer_open: bool = False

    def _refresh(self, ctx: sessions.SessionContext) -> None:
        with session_scope(readonly=True) as db:
            merchant = db.get(Merchant, ctx.merchant_id)
            tz = merchant.timezone if merchant else "UTC"
            members = team.list_members(db, ctx.merchant_id)
            pending = invitations.pending(db, ctx.merchant_id)
        self.members = [
            {
                "id": m.membership_id,
                "email": m.email,
                "name": m.full_name,
                "role": m.role,
                "role_label": labels.role(m.role),
                "joined": audit_log.format_time(m.joined_at, tz)[:-3],
                "you": "yes" if m.user_id == ctx.user_id else "",
            }
            for m in members
        ]
        self.pending = [
            {
                "id": p.id,
                "email": p.email,
                "role": p.role,
                "role_label": labels.role(p.role),
                "by": p.invited_by,
                "expires": audit_log.format_time(p.expires_at, tz)[:-3],
            }
            for p in pending
        ]
        self.can_manage = can(ctx.role, Permission.MANAGE_TEAM)
        self.can_transfer = can(ctx.role, Permission.TRANSFER_OWNERSHIP)
        self.loaded = True

    def _run(self, work, success: str):  # type: ignore[no-untyped-def]
        """Run a team change as the signed-in member; show its outcome, then reload."""
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.message = self.error = ""
        sent: list[str] = []
        try:
            with session_scope() as db:
                result = work(db, ctx)
            if isinstance(result, str) and result.startswith("eml_"):
                sent.append(result)
        except ServiceError as exc:
            self.error = exc.message
        else:
            self.message = success
        for email_id in sent:
            email.send_recorded(email_id)
        ctx = self._load_context()
        if ctx is None:  # the member removed themselves: their session is gone
            return rx.redirect("/login")
        self._refresh(ctx)
        return None

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.message = self.error = self.transfer_error = ""
        self.transfer_open = False
        self._refresh(ctx)
        return None

    @rx.event
    def set_invite_role(self, role: str) -> None:
        self.invite_role = role if role in team.ASSIGNABLE_ROLES else "developer"

    @rx.event
    def invite(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        address = str(form.get("email", ""))
        role = self.invite_role

        def work(db, ctx):  # type: ignore[no-untyped-def]
            _, email_id = invitations.invite(db, ctx, address, role)
            return email_id

        return self._run(work, f"Invitation sent to {address.strip()} as {labels.role(role)}.")

    @rx.event
    def revoke_invitation(self, invitation_id: str):  # type: ignore[no-untyped-def]
        return self._run(
            lambda db, ctx: invitations.revoke(db, ctx, invitation_id),
            "Invitation revoked: its link no longer works.",
        )

    @rx.event
    def change_role(self, membership_id: str, role: str):  # type: ignore[no-untyped-def]
        return self._run(
            lambda db, ctx: team.change_role(db, ctx, membership_id, role),
            f"Role changed to {labels.role(role)}.",
        )

    @rx.event
    def remove(self, membership_id: str):  # type: ignore[no-untyped-def]
        return self._run(
            lambda db, ctx: team.remove_member(db, ctx, membership_id),
            "Member removed; their sessions have ended.",
        )

    @rx.event
    def open_transfer(self, membership_id: str) -> None:
        self.transfer_target, self.transfer_error, self.transfer_open = membership_id, "", True

    @rx.event
    def set_transfer_open(self, value: bool) -> None:
        self.transfer_open = value

    @rx.event
    def transfer(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        password = str(form.get("password", ""))
        target = self.transfer_target
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            with session_scope() as db:
                email_id = team.transfer_ownership(db, ctx, target, password)
        except ServiceError as exc:
            self.transfer_error = exc.message
            return None
        email.send_recorded(email_id)
        self.transfer_open, self.transfer_error = False, ""
        self.error = ""
        self.message = "Ownership transferred. You are now an admin."
        ctx = self._load_context()
        if ctx is not None:
            self._refresh(ctx)
        return None
