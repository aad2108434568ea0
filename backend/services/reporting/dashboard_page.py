"""The portal dashboard's figures for a signed-in member: the chosen range in the merchant's
time zone, the overview of that range (KPIs, charts, the newest payments), and the balance
with the next payout (the Balance page's own figures, in brief)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.core.errors import ValidationFailed
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.identity.viewers import Viewer
from backend.services.payouts import balance_page
from backend.services.reporting import dashboard, periods

CUSTOM_PROMPT = "Choose the first and last day of the range, then Apply."


@dataclass(frozen=True)
class Figures:
    period: periods.Period
    overview: dashboard.Overview


def period_of(range_key: str, timezone: str, custom_from: str, custom_to: str) -> periods.Period:
    """The range chosen on the page ("7d", "30d", "90d", or "custom" with two ISO days)."""
    if range_key == "custom":
        try:
            first, last = date.fromisoformat(custom_from), date.fromisoformat(custom_to)
        except ValueError:
            raise ValidationFailed(CUSTOM_PROMPT, param="range") from None
        return periods.period_for("custom", timezone, custom_from=first, custom_to=last)
    return periods.period_for(range_key, timezone)


def dashboard_figures(
    ctx: SessionContext,
    *,
    range_key: str,
    custom_from: str,
    custom_to: str,
    timezone: str,
    currency: str,
    fallback_currency: str,
    recent: int,
) -> Figures:
    require(ctx.role, Permission.VIEW_DATA)
    period = period_of(range_key, timezone, custom_from, custom_to)
    overview = dashboard.read_overview(
        merchant_id=ctx.merchant_id,
        livemode=ctx.livemode,
        currency=currency,
        fallback_currency=fallback_currency,
        period=period,
        recent=recent,
    )
    return Figures(period, overview)


def balance_summary(viewer: Viewer) -> list[dict[str, str]]:
    """Per currency: available, pending and the next payout, as the Balance page words them."""
    page = balance_page.balance_page(viewer)
    return [
        {
            "currency": c.currency,
            "available": c.available,
            "pending": c.pending,
            "next_payout": c.next_payout,
        }
        for c in page.currencies
    ]
