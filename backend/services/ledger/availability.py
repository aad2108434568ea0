"""When captured funds become available: a number of business days after the capture (UTC,
Saturdays and Sundays skipped; no bank holidays), at midnight UTC, as Stripe dates them.

As in Stripe's test mode, a test payment with the card 4000 0000 0000 0077 is available at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

DEFAULT_DELAY_DAYS = 2
MAX_DELAY_DAYS = 30
# Stripe's test card whose funds bypass the pending balance; test mode only.
INSTANT_TEST_CARD_LAST4 = "0077"
_SATURDAY = 5


def add_business_days(start: datetime, days: int) -> datetime:
    """Midnight UTC of the day `days` business days after `start`'s UTC day; `start` itself
    when days is 0 (available at once)."""
    if days <= 0:
        return start
    day = start.astimezone(UTC).date()
    left = days
    while left:
        day += timedelta(days=1)
        if day.weekday() < _SATURDAY:
            left -= 1
    return datetime.combine(day, time(0), tzinfo=UTC)


def instant(livemode: bool, card_last4: str | None) -> bool:
    """A test payment made with the test card whose funds are available at once."""
    return not livemode and card_last4 == INSTANT_TEST_CARD_LAST4


def available_on(
    captured_at: datetime, delay_days: int, *, livemode: bool, card_last4: str | None
) -> datetime:
    if instant(livemode, card_last4):
        return captured_at
    return add_business_days(captured_at, delay_days)
