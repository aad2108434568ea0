"""Who is looking at a portal page: the signed-in member's session, their merchant's locale,
time zone and default currency, the scope (merchant and mode) they read and change, and the
actor the audit rows name."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.models import Merchant
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity import permissions
from backend.services.identity.permissions import Permission
from backend.services.identity.sessions import SessionContext


@dataclass(frozen=True)
class Viewer:
    ctx: SessionContext
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


def viewer_of(ctx: SessionContext) -> Viewer | None:
    """The viewer behind a resolved session, or None when its merchant is gone."""
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
    if merchant is None:
        return None
    return Viewer(ctx, merchant.locale, merchant.timezone, merchant.default_currency)


def merchant_timezone(merchant_id: str) -> str:
    """The merchant's time zone for showing times ("UTC" when the merchant is gone)."""
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, merchant_id)
    return merchant.timezone if merchant else "UTC"
