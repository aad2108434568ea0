"""The portal's audit log page for a signed-in member: its filter choices and its pages, read
only by roles that may read the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.models import Merchant
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.reporting import audit_log


@dataclass(frozen=True)
class AuditChoices:
    timezone: str  # the merchant's: the page's days and times
    facets: audit_log.Facets


def audit_choices(ctx: SessionContext) -> AuditChoices:
    require(ctx.role, Permission.VIEW_AUDIT_LOG)
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
        facets = audit_log.facets(db, ctx.merchant_id)
    return AuditChoices(merchant.timezone if merchant else "UTC", facets)


def audit_page(
    ctx: SessionContext, filters: audit_log.AuditFilters, timezone: str, cursor: str | None
) -> audit_log.AuditPage:
    require(ctx.role, Permission.VIEW_AUDIT_LOG)
    with session_scope(readonly=True) as db:
        return audit_log.search(
            db, merchant_id=ctx.merchant_id, filters=filters, timezone=timezone, cursor=cursor
        )
