"""Who is looking, for the portal's event handlers: the session, the merchant's locale and
time zone, and the permission checks every handler makes on the server."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.models import Merchant
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity import permissions, sessions
from backend.services.identity.permissions import Permission
from portal.state.auth import AuthState


@dataclass(frozen=True)
class Viewer:
    ctx: sessions.SessionContext
    locale: str
    timezone: str
    default_currency: str

    @property
    def scope(self) -> Scope:
        return Scope(self.ctx.merchant_id, self.ctx.livemode)

    def actor(self, ip: str | None) -> Actor:
        return Actor(ActorType.USER, self.ctx.user_id, ip or None)

    def can(self, permission: Permission) -> bool:
        return permissions.can(self.ctx.role, permission)

    def require(self, permission: Permission) -> None:
        permissions.require(self.ctx.role, permission)


def current_viewer(state: AuthState) -> Viewer | None:
    """The signed-in viewer, or None (the caller sends the browser to sign in)."""
    ctx = state._load_context()
    if ctx is None:
        return None
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
    if merchant is None:
        return None
    return Viewer(ctx, merchant.locale, merchant.timezone, merchant.default_currency)


def permitted_viewer(state: AuthState, permission: Permission) -> Viewer | None:
    """The signed-in viewer, refused (PermissionDenied) unless their role has the permission;
    None when nobody is signed in."""
    viewer = current_viewer(state)
    if viewer is not None:
        viewer.require(permission)
    return viewer
