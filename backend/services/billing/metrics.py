"""The dashboard's billing figures: monthly recurring revenue (MRR), active subscriptions,
churn and failed-renewal recovery, for one merchant in one mode.

**MRR** is what the subscriptions that bill (status active or past due) bring in a month: each
item's unit amount x quantity normalised to a month from its price's interval and interval
count — a month / count, a year / (12 x count), a week x 52 / (12 x count), a day x 365 /
(12 x count). The normalised amounts are exact fractions (`Fraction`, never a float) summed per
currency; each currency's sum is rounded once, to the nearest minor unit, a half unit up, so no
rounding error grows with the number of subscriptions. Currencies are never added together.

**Churn** over the last 30 days is the subscriptions that ended canceled in the window / the
subscriptions that were billing at its start. A subscription was billing at the start when it
had been created by then, had not ended, and was past any trial; the incomplete ones (never
paid) never count. A cancellation during a trial is not churn: the subscription never billed.

**Failed-renewal recovery** over the last 30 days: of the renewal invoices (billing reason
"subscription cycle") whose first payment attempt failed in the window, the share now paid.

A rate with nothing under it (no subscription billing 30 days ago, no failed renewal) is
None, shown as a dash and words, never as 0 % or a division by zero.

Figures read billing's stored timestamps against `now` (the real UTC time unless a test
gives one); a test-mode subscription on a test clock carries its clock's times.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from babel import Locale, UnknownLocaleError
from babel.numbers import format_percent
from sqlalchemy import func
from sqlmodel import Session, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.models.billing import Invoice, Price, Subscription, SubscriptionItem
from backend.models.enums import (
    BillingInterval,
    BillingReason,
    InvoiceStatus,
    SubscriptionStatus,
)
from backend.models.types import utcnow
from backend.services.context import Scope
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer

WINDOW = timedelta(days=30)
# The statuses whose subscriptions bill: they make the MRR and the active count.
BILLING_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
NEVER_BILLED = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.INCOMPLETE_EXPIRED)

# How long one interval is, in months, exactly.
MONTHS_PER: dict[str, Fraction] = {
    BillingInterval.DAY: Fraction(12, 365),
    BillingInterval.WEEK: Fraction(12, 52),
    BillingInterval.MONTH: Fraction(1),
    BillingInterval.YEAR: Fraction(12),
}


def monthly_share(amount: int, interval: str, interval_count: int) -> Fraction:
    """An amount billed every `interval_count` intervals, as an exact amount per month
    (unrounded): 12,000 a year is 1,000 a month; 100 a week is 100 x 52 / 12."""
    if interval_count < 1:
        raise ValueError("interval_count must be at least 1")
    return Fraction(amount) / (MONTHS_PER[BillingInterval(interval)] * interval_count)


def round_half_up(value: Fraction) -> int:
    """The nearest integer, a half up (values here are never negative)."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


@dataclass(frozen=True)
class Line:
    """Items of one currency and one recurrence, summed: unit amount x quantity."""

    currency: str
    amount: int
    interval: str
    interval_count: int


def mrr(lines: Iterable[Line]) -> dict[str, int]:
    """Monthly recurring revenue per currency, in minor units: the lines' exact monthly shares
    summed per currency, then rounded once (half up)."""
    exact: dict[str, Fraction] = defaultdict(Fraction)
    for line in lines:
        exact[line.currency] += monthly_share(line.amount, line.interval, line.interval_count)
    return {currency: round_half_up(total) for currency, total in sorted(exact.items())}


def _one_decimal(locale: str) -> str:
    """The locale's percent pattern ("#,##0\xa0%" in German) with one decimal."""
    try:
        pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    except (UnknownLocaleError, ValueError, LookupError, TypeError):
        pattern = "#,##0%"
    return re.sub(r"0(?![0-9.])", "0.0", pattern, count=1)


@dataclass(frozen=True)
class Rate:
    """A share, kept as its two counts: `value` is None when there is nothing under it."""

    part: int
    whole: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.part, self.whole) if self.whole else None

    def percent(self, locale: str = "en_US") -> str:
        """ "12.5%" in the locale's way, one decimal; "—" when there is nothing to divide."""
        value = self.value
        if value is None:
            return "—"
        # Babel rounds a Decimal half-even; round half up here, on the exact fraction, to a
        # tenth of a percent first, so 1/8 reads 12.5% and 1/3 reads 33.3% everywhere.
        tenths = round_half_up(value * 1000)
        return format_percent(Decimal(tenths).scaleb(-3), _one_decimal(locale), locale=locale)


@dataclass(frozen=True)
class BillingMetrics:
    mrr: dict[str, int]  # currency -> minor units a month
    active: int  # subscriptions billing (active or past due)
    past_due: int  # of which past due
    trialing: int
    ever: int  # subscriptions made in this mode, in any status
    churn: Rate  # canceled in the window / billing at its start
    recovery: Rate  # failed renewals now paid / failed renewals
    since: datetime  # the window's start


def billing_metrics(db: Session, scope: Scope, *, now: datetime | None = None) -> BillingMetrics:
    now = now or utcnow()
    start = now - WINDOW
    mine = (Subscription.merchant_id == scope.merchant_id) & (
        Subscription.livemode == scope.livemode
    )

    lines = db.exec(
        select(
            Price.currency,
            func.sum(Price.unit_amount * SubscriptionItem.quantity),
            Price.recurring_interval,
            Price.recurring_interval_count,
        )
        .join(SubscriptionItem, SubscriptionItem.price_id == Price.id)  # type: ignore[arg-type]
        .join(Subscription, Subscription.id == SubscriptionItem.subscription_id)  # type: ignore[arg-type]
        .where(mine, Subscription.status.in_(BILLING_STATUSES))  # type: ignore[attr-defined]
        .where(Price.recurring_interval.is_not(None))  # type: ignore[union-attr]
        .group_by(Price.currency, Price.recurring_interval, Price.recurring_interval_count)
    ).all()
    monthly = mrr(Line(c, int(a or 0), i, int(n or 1)) for c, a, i, n in lines)

    counts = dict(
        db.exec(
            select(Subscription.status, func.count()).where(mine).group_by(Subscription.status)  # type: ignore[arg-type]
        ).all()
    )

    def count(*conditions: object) -> int:
        return int(db.exec(select(func.count()).where(mine, *conditions)).one())  # type: ignore[arg-type]

    ended = Subscription.ended_at
    billing_at_start = count(
        Subscription.created_at <= start,
        ended.is_(None) | (ended > start),  # type: ignore[union-attr, operator]
        Subscription.trial_end.is_(None) | (Subscription.trial_end <= start),  # type: ignore[union-attr, operator]
        Subscription.status.not_in(NEVER_BILLED),  # type: ignore[attr-defined]
    )
    churned = count(
        Subscription.status == SubscriptionStatus.CANCELED,
        ended > start,  # type: ignore[operator]
        ended <= now,  # type: ignore[operator]
        Subscription.trial_end.is_(None) | (Subscription.trial_end < ended),  # type: ignore[union-attr, operator]
    )

    renewal = (
        (Invoice.merchant_id == scope.merchant_id)
        & (Invoice.livemode == scope.livemode)
        & (Invoice.billing_reason == BillingReason.SUBSCRIPTION_CYCLE)
        & (Invoice.first_failed_at > start)  # type: ignore[operator]
        & (Invoice.first_failed_at <= now)  # type: ignore[operator]
    )
    failed = int(db.exec(select(func.count()).where(renewal)).one())  # type: ignore[arg-type]
    recovered = int(
        db.exec(
            select(func.count()).where(renewal, Invoice.status == InvoiceStatus.PAID)  # type: ignore[arg-type]
        ).one()
    )

    return BillingMetrics(
        mrr=monthly,
        active=sum(int(counts.get(s, 0)) for s in BILLING_STATUSES),
        past_due=int(counts.get(SubscriptionStatus.PAST_DUE, 0)),
        trialing=int(counts.get(SubscriptionStatus.TRIALING, 0)),
        ever=sum(int(n) for n in counts.values()),
        churn=Rate(churned, billing_at_start),
        recovery=Rate(recovered, failed),
        since=start,
    )


# --- the dashboard's card ---------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def figures(found: BillingMetrics, locale: str = "en_US") -> list[Figure]:
    """The four figures in words and money, in the merchant's locale."""
    mrr_value = " · ".join(format_money(a, c, locale) for c, a in found.mrr.items()) or "—"
    active_note = []
    if found.past_due:
        active_note.append(f"{found.past_due:,} past due")
    if found.trialing:
        active_note.append(f"{found.trialing:,} more on a trial")
    churn, recovery = found.churn, found.recovery
    return [
        Figure(
            "Monthly recurring revenue",
            mrr_value,
            "From active and past-due subscriptions, per month"
            if found.mrr
            else "No subscription is billing yet",
        ),
        Figure(
            "Active subscriptions",
            f"{found.active:,}",
            ", ".join(active_note) or "Active and past due",
        ),
        Figure(
            "Churn, last 30 days",
            churn.percent(locale),
            f"{churn.part:,} canceled of "
            f"{_plural(churn.whole, 'subscription', 'subscriptions')} billing 30 days ago"
            if churn.whole
            else "No subscription was billing 30 days ago",
        ),
        Figure(
            "Failed renewals recovered, last 30 days",
            recovery.percent(locale),
            f"{recovery.part:,} of {_plural(recovery.whole, 'failed renewal', 'failed renewals')}"
            " paid since"
            if recovery.whole
            else "No renewal failed in the last 30 days",
        ),
    ]


@dataclass(frozen=True)
class BillingCard:
    figures: list[Figure]
    shown: bool  # only once the merchant has a subscription: billing is optional


def dashboard_figures(viewer: Viewer, *, now: datetime | None = None) -> BillingCard:
    """The dashboard's billing card for the viewer's merchant and mode."""
    viewer.require(Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        found = billing_metrics(db, viewer.scope, now=now)
    return BillingCard(figures(found, viewer.locale), found.ever > 0)
