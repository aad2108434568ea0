"""Periods of the merchant's own days: the dashboard's ranges (the last 7/30/90 days or a
custom range of whole local days) and a list's date filter, turned into UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.core.errors import ValidationFailed
from backend.models import utcnow

RANGE_PRESETS = {"7d": 7, "30d": 30, "90d": 90}
MAX_RANGE_DAYS = 366


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Period:
    """A half-open range of time [start, end) in UTC, made of whole days of one time zone."""

    start: datetime
    end: datetime
    first_day: date
    days: int
    tz: str

    @property
    def previous(self) -> Period:
        first = self.first_day - timedelta(days=self.days)
        return _local_days(first, self.days, self.tz)

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]


def _local_days(first: date, days: int, tz: str) -> Period:
    zone_ = zone(tz)
    start = datetime.combine(first, time(), zone_).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(), zone_).astimezone(UTC)
    return Period(start, end, first, days, tz)


def period_for(
    preset: str,
    tz: str,
    *,
    custom_from: date | None = None,
    custom_to: date | None = None,
    now: datetime | None = None,
) -> Period:
    """The last 7/30/90 days up to and including today in the merchant's time zone, or a
    custom range of whole local days (both ends included)."""
    if preset == "custom":
        if custom_from is None or custom_to is None:
            raise ValidationFailed("Choose both dates of the range", param="range")
        if custom_to < custom_from:
            raise ValidationFailed(
                "The range ends before it starts: choose a last day on or after the first.",
                param="range",
            )
        days = (custom_to - custom_from).days + 1
        if days > MAX_RANGE_DAYS:
            raise ValidationFailed(
                f"Choose a range of at most {MAX_RANGE_DAYS} days", param="range"
            )
        return _local_days(custom_from, days, tz)
    if preset not in RANGE_PRESETS:
        raise ValidationFailed(f"Unknown range {preset!r}", param="range")
    today = (now or utcnow()).astimezone(zone(tz)).date()
    days = RANGE_PRESETS[preset]
    return _local_days(today - timedelta(days=days - 1), days, tz)


def local_day_bounds(
    first: date | None, last: date | None, tz: str
) -> tuple[datetime | None, datetime | None]:
    """[start of `first`, start of the day after `last`) in UTC, for a list's date filter."""
    zone_ = zone(tz)
    start = datetime.combine(first, time(), zone_).astimezone(UTC) if first else None
    end = (
        datetime.combine(last + timedelta(days=1), time(), zone_).astimezone(UTC) if last else None
    )
    if start and end and end <= start:
        raise ValidationFailed("The date range ends before it starts", param="created")
    return start, end
