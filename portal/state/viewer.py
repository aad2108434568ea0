"""Who is looking, for the portal's event handlers: the session, the merchant's locale and
time zone, and the permission checks every handler makes on the server (the Viewer itself
lives in backend/services/identity/viewers.py)."""

from __future__ import annotations

from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer, viewer_of
from portal.state.auth import AuthState

__all__ = ["Viewer", "current_viewer", "permitted_viewer"]


def current_viewer(state: AuthState) -> Viewer | None:
    """The signed-in viewer, or None (the caller sends the browser to sign in)."""
    ctx = state._load_context()
    if ctx is None:
        return None
    return viewer_of(ctx)


def permitted_viewer(state: AuthState, permission: Permission) -> Viewer | None:
    """The signed-in viewer, refused (PermissionDenied) unless their role has the permission;
    None when nobody is signed in."""
    viewer = current_viewer(state)
    if viewer is not None:
        viewer.require(permission)
    return viewer
