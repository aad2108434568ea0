"""Billing periods: pure calendar arithmetic in UTC, no database.

A recurring price bills every `count` days, weeks, months or years. A subscription's periods
are laid out from its **billing-cycle anchor**, as Stripe's are: the k-th boundary is the anchor
moved by k * count intervals, always computed from the anchor itself, never from the previous
boundary. A day of the month the target month lacks becomes that month's last day, and the next
month has its own day back: an anchor on January 31 renews on February 28 (29 in a leap year),
March 31, April 30, May 31... (stepping from boundary to boundary would drift to the 28th for
good). A yearly anchor on February 29 renews on February 28 in common years. The time of day
is the anchor's. Days are 24 hours and weeks 7 days: UTC has no daylight saving.

Every datetime given must be aware; it is converted to UTC first (a naive one is refused with
ValueError: it is a programming error, not a customer's input). Results are aware UTC datetimes.

What the billing engine uses:

- `Recurrence(interval, count)`: a validated interval (`Recurrence.parse` refuses bad input
  with ValidationFailed, for the API and the catalogue).
- `boundary(anchor, recurrence, index)`: the index-th boundary (0 is the anchor itself;
  negative indexes lie before it).
- `next_period_end(anchor, after, recurrence)`: the first boundary strictly after `after`: when
  the period that is running at `after` ends (a period starting at a boundary ends at the next).
- `period_containing(anchor, moment, recurrence)`: the whole period [start, end) that contains
  `moment` (start <= moment < end), e.g. to prorate a first, partial period.
- `period_ends(anchor, after, until, recurrence)`: every boundary in (after, until], in order:
  the renewals a test clock's advance or the periodic job has to catch up with.
- `trial_end(start, days)`: when a trial of `days` days that starts at `start` ends.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.core.errors import ValidationFailed
from backend.models.enums import BillingInterval

# Stripe's limits: at most one year between two bills.
MAX_INTERVAL_COUNT: dict[BillingInterval, int] = {
    BillingInterval.DAY: 365,
    BillingInterval.WEEK: 52,
    BillingInterval.MONTH: 12,
    BillingInterval.YEAR: 1,
}
MAX_TRIAL_DAYS = 730  # Stripe's limit too
_FIXED_DAYS = {BillingInterval.DAY: 1, BillingInterval.WEEK: 7}
_MONTHS = {BillingInterval.MONTH: 1, BillingInterval.YEAR: 12}


@dataclass(frozen=True)
class Recurrence:
    """Every `count` `interval`s (count >= 1, at most a year in all)."""

    interval: BillingInterval
    count: int = 1

    def __post_init__(self) -> None:
        if self.interval not in set(BillingInterval):
            raise ValueError(f"not a billing interval: {self.interval!r}")
        object.__setattr__(self, "interval", BillingInterval(self.interval))
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(f"interval count must be an int, not {self.count!r}")
        if not 1 <= self.count <= MAX_INTERVAL_COUNT[self.interval]:
            raise ValueError(f"interval count out of range: {self.count}")

    @classmethod
    def parse(cls, interval: object, count: object = 1, *, param: str = "recurring") -> Recurrence:
        """A recurrence from an API caller's values, or ValidationFailed saying what is wrong."""
        choices = ", ".join(BillingInterval)
        if not isinstance(interval, str) or interval not in set(BillingInterval):
            raise ValidationFailed(f"interval must be one of: {choices}", param=f"{param}.interval")
        unit = BillingInterval(interval)
        top = MAX_INTERVAL_COUNT[unit]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= top:
            raise ValidationFailed(
                f"intervalCount must be a whole number from 1 to {top} for {unit} "
                "(at most one year between two bills)",
                param=f"{param}.intervalCount",
            )
        return cls(unit, count)


@dataclass(frozen=True)
class Period:
    """[start, end): a billing period, both ends aware UTC, start before end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if not self.start < self.end:
            raise ValueError(f"a period ends after it starts: {self.start} .. {self.end}")

    @property
    def seconds(self) -> int:
        """Its length in whole seconds (what proration counts)."""
        return whole_seconds(self.end - self.start)

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= utc(moment) < self.end


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused."""
    if not isinstance(moment, datetime):
        raise TypeError(f"a datetime is needed, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: billing times are aware (UTC)")
    return moment.astimezone(UTC)


def whole_seconds(span: timedelta) -> int:
    """A duration in whole seconds, rounded down (a fraction of a second does not count)."""
    return span // timedelta(seconds=1)


def boundary(anchor: datetime, recurrence: Recurrence, index: int) -> datetime:
    """The anchor moved by index * count intervals (index may be negative), month ends kept."""
    anchor = utc(anchor)
    steps = index * recurrence.count
    if recurrence.interval in _FIXED_DAYS:
        return anchor + timedelta(days=steps * _FIXED_DAYS[recurrence.interval])
    return _add_months(anchor, steps * _MONTHS[recurrence.interval])


def next_period_end(anchor: datetime, after: datetime, recurrence: Recurrence) -> datetime:
    """The first boundary strictly after `after`."""
    return boundary(anchor, recurrence, _index_after(utc(anchor), utc(after), recurrence))


def period_containing(anchor: datetime, moment: datetime, recurrence: Recurrence) -> Period:
    """The period [start, end) of this anchor's cycle with start <= moment < end."""
    index = _index_after(utc(anchor), utc(moment), recurrence)
    return Period(boundary(anchor, recurrence, index - 1), boundary(anchor, recurrence, index))


def period_ends(
    anchor: datetime, after: datetime, until: datetime, recurrence: Recurrence
) -> Iterator[datetime]:
    """Every boundary b with after < b <= until, in order (none when until <= after)."""
    until = utc(until)
    index = _index_after(utc(anchor), utc(after), recurrence)
    while (end := boundary(anchor, recurrence, index)) <= until:
        yield end
        index += 1


def trial_end(start: datetime, days: int) -> datetime:
    """The end of a trial of `days` whole days (1 to 730) from `start`; the subscription's
    first paid period starts then (by default, it becomes the billing-cycle anchor)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TRIAL_DAYS:
        raise ValidationFailed(
            f"trialDays must be a whole number from 1 to {MAX_TRIAL_DAYS}", param="trialDays"
        )
    return utc(start) + timedelta(days=days)


def _index_after(anchor: datetime, after: datetime, recurrence: Recurrence) -> int:
    """The smallest index whose boundary is strictly after `after`."""
    if recurrence.interval in _FIXED_DAYS:
        step = timedelta(days=recurrence.count * _FIXED_DAYS[recurrence.interval])
        return (after - anchor) // step + 1
    months = recurrence.count * _MONTHS[recurrence.interval]
    elapsed = (after.year - anchor.year) * 12 + (after.month - anchor.month)
    index = elapsed // months - 1  # at or before the answer: boundaries clamp by days only
    while boundary(anchor, recurrence, index) <= after:
        index += 1
    return index


def _add_months(moment: datetime, months: int) -> datetime:
    """moment moved by whole calendar months, its day clamped to the target month's length."""
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"billing date out of range: year {year}")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
