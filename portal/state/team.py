"""The Team page: members, pending invitations, role changes, removal, ownership transfer.

What the page shows depends on the role (a courtesy); every handler calls a service function
that checks the role in the database again and refuses what the matrix does not allow.
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import sessions, team, team_pages
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
        found = team_pages.overview(ctx)
        self.members = [
            {
                "id": m.id,
                "email": m.email,
                "name": m.name,
                "role": m.role,
                "role_label": m.role_label,
                "joined": m.joined,
                "you": "yes" if m.you else "",
            }
            for m in found.members
        ]
        self.pending = [
            {
                "id": p.id,
                "email": p.email,
                "role": p.role,
                "role_label": p.role_label,
                "by": p.by,
                "expires": p.expires,
            }
            for p in found.pending
        ]
        self.can_manage, self.can_transfer = found.can_manage, found.can_transfer
        self.loaded = True

    def _run(self, change: Callable[[sessions.SessionContext], str]):  # type: ignore[no-untyped-def]
        """Make a team change as the signed-in member; show its outcome, then reload."""
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.message = self.error = ""
        try:
            self.message = change(ctx)
        except ServiceError as exc:
            self.error = exc.message
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
        address, role = str(form.get("email", "")), self.invite_role
        return self._run(lambda ctx: team_pages.invite(ctx, address, role))

    @rx.event
    def revoke_invitation(self, invitation_id: str):  # type: ignore[no-untyped-def]
        return self._run(lambda ctx: team_pages.revoke_invitation(ctx, invitation_id))

    @rx.event
    def change_role(self, membership_id: str, role: str):  # type: ignore[no-untyped-def]
        return self._run(lambda ctx: team_pages.change_role(ctx, membership_id, role))

    @rx.event
    def remove(self, membership_id: str):  # type: ignore[no-untyped-def]
        return self._run(lambda ctx: team_pages.remove_member(ctx, membership_id))

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
            done = team_pages.transfer_ownership(ctx, target, password)
        except ServiceError as exc:
            self.transfer_error = exc.message
            return None
        self.transfer_open, self.transfer_error = False, ""
        self.error, self.message = "", done
        ctx = self._load_context()
        if ctx is not None:
            self._refresh(ctx)
        return None
