"""The portal's Statements page for a signed-in member: the recent months with activity, each
with its opening and closing balance per currency, and whether the member may download them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.core.db import session_scope
from backend.services.identity.permissions import Permission, can, require
from backend.services.identity.sessions import SessionContext
from backend.services.reporting import statements

MONTHS = 12


@dataclass(frozen=True)
class StatementsPage:
    months: list[statements.MonthSummary]
    can_download: bool  # the export permission: PDF and CSV links


def statements_page(
    ctx: SessionContext, timezone: str, *, now: datetime | None = None
) -> StatementsPage:
    """Anyone who may read the data sees the figures; only those who may export download."""
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        months = statements.recent_months(
            db, ctx.merchant_id, ctx.livemode, timezone, count=MONTHS, now=now
        )
    return StatementsPage(months, can(ctx.role, Permission.EXPORT_DATA))
