"""Billing periods: anchors that survive month ends (Stripe's behaviour), leap years, weeks and
days, interval counts above one, trial ends, and the laws every period layout obeys."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.errors import ValidationFailed
from backend.models.enums import BillingInterval
from backend.services.billing.periods import (
    MAX_INTERVAL_COUNT,
    Period,
    Recurrence,
    boundary,
    next_period_end,
    period_containing,
    period_ends,
    trial_end,
)

MONTHLY = Recurrence(BillingInterval.MONTH)
YEARLY = Recurrence(BillingInterval.YEAR)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, 15, tzinfo=UTC)


def ends(anchor: datetime, recurrence: Recurrence, n: int) -> list[datetime]:
    return [boundary(anchor, recurrence, k) for k in range(1, n + 1)]


def test_a_january_31_anchor_renews_on_each_months_last_day_and_comes_back_to_31():
    got = ends(at(2025, 1, 31), MONTHLY, 6)
    assert [(d.month, d.day) for d in got] == [(2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31)]
    assert all(d.time() == at(2025, 1, 31).time() and d.tzinfo == UTC for d in got)


def test_in_a_leap_year_february_gets_its_29th():
    assert [(d.month, d.day) for d in ends(at(2024, 1, 31), MONTHLY, 3)] == [
        (2, 29),
        (3, 31),
        (4, 30),
    ]
    assert [(d.month, d.day) for d in ends(at(2024, 1, 30), MONTHLY, 2)] == [(2, 29), (3, 30)]


def test_stepping_from_the_previous_end_is_not_what_happens():
    """Computed from the anchor: March is the 31st again, not the 28th February left."""
    anchor = at(2025, 1, 31)
    february = next_period_end(anchor, anchor, MONTHLY)
    assert february == at(2025, 2, 28)
    assert next_period_end(anchor, february, MONTHLY) == at(2025, 3, 31)


def test_a_february_29_yearly_anchor_renews_on_the_28th_in_common_years():
    got = ends(at(2024, 2, 29), YEARLY, 4)
    assert [d.date().isoformat() for d in got] == [
        "2025-02-28",
        "2026-02-28",
        "2027-02-28",
        "2028-02-29",
    ]


def test_every_three_months_from_november_30():
    quarterly = Recurrence(BillingInterval.MONTH, 3)
    got = ends(at(2023, 11, 30), quarterly, 4)
    assert [d.date().isoformat() for d in got] == [
        "2024-02-29",
        "2024-05-30",
        "2024-08-30",
        "2024-11-30",
    ]


@pytest.mark.parametrize(
    ("interval", "count", "days"),
    [("day", 1, 1), ("day", 30, 30), ("week", 1, 7), ("week", 2, 14), ("week", 52, 364)],
)
def test_days_and_weeks_are_fixed_lengths(interval: str, count: int, days: int):
    recurrence = Recurrence(BillingInterval(interval), count)
    anchor = at(2024, 2, 27)
    assert ends(anchor, recurrence, 3) == [anchor + timedelta(days=days * k) for k in (1, 2, 3)]


def test_next_period_end_is_strictly_after_and_a_boundary_is_the_start_of_the_next():
    anchor = at(2025, 1, 31)
    assert next_period_end(anchor, at(2025, 2, 28), MONTHLY) == at(2025, 3, 31)
    assert next_period_end(anchor, at(2025, 2, 28) - timedelta(seconds=1), MONTHLY) == at(
        2025, 2, 28
    )
    # Before the anchor (a subscription whose anchor is set in the future): the anchor first.
    assert next_period_end(anchor, at(2025, 1, 10), MONTHLY) == anchor
    assert boundary(anchor, MONTHLY, -1) == at(2024, 12, 31)
    assert boundary(anchor, MONTHLY, -2) == at(2024, 11, 30)


def test_period_containing_a_moment():
    anchor = at(2025, 1, 31)
    period = period_containing(anchor, at(2025, 4, 2), MONTHLY)
    assert period == Period(at(2025, 3, 31), at(2025, 4, 30))
    assert at(2025, 4, 2) in period and at(2025, 4, 30) not in period
    # A boundary starts its own period.
    assert period_containing(anchor, at(2025, 3, 31), MONTHLY).start == at(2025, 3, 31)


def test_period_ends_lists_a_year_of_renewals():
    anchor = at(2025, 1, 31)
    renewals = list(period_ends(anchor, anchor, at(2026, 1, 31), MONTHLY))
    assert len(renewals) == 12
    assert renewals[0] == at(2025, 2, 28) and renewals[-1] == at(2026, 1, 31)
    assert list(period_ends(anchor, at(2025, 5, 1), at(2025, 5, 30), MONTHLY)) == []
    assert list(period_ends(anchor, at(2025, 5, 1), at(2025, 4, 1), MONTHLY)) == []


def test_other_time_zones_are_read_as_the_same_instant_in_utc():
    tokyo = timezone(timedelta(hours=9))
    # 2025-02-01 08:00 in Tokyo is January 31, 23:00 UTC: a January-31 anchor.
    anchor = datetime(2025, 2, 1, 8, 0, tzinfo=tokyo)
    assert boundary(anchor, MONTHLY, 1) == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        next_period_end(datetime(2025, 1, 1), at(2025, 1, 1), MONTHLY)
    with pytest.raises(ValueError, match="naive"):
        Period(datetime(2025, 1, 1), at(2025, 2, 1))


def test_recurrence_parse_refuses_what_stripe_refuses():
    assert Recurrence.parse("month", 3) == Recurrence(BillingInterval.MONTH, 3)
    for interval, count, param in [
        ("fortnight", 1, "recurring.interval"),
        (None, 1, "recurring.interval"),
        ("month", 13, "recurring.intervalCount"),
        ("year", 2, "recurring.intervalCount"),
        ("week", 53, "recurring.intervalCount"),
        ("day", 366, "recurring.intervalCount"),
        ("day", 0, "recurring.intervalCount"),
        ("month", True, "recurring.intervalCount"),
        ("month", "2", "recurring.intervalCount"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            Recurrence.parse(interval, count)
        assert refused.value.param == param
    with pytest.raises(ValueError):
        Recurrence(BillingInterval.MONTH, 0)


def test_trial_end():
    assert trial_end(at(2025, 1, 31), 14) == at(2025, 2, 14)
    assert trial_end(at(2024, 2, 28), 1) == at(2024, 2, 29)
    for bad in (0, 731, -1, True, 1.5):
        with pytest.raises(ValidationFailed):
            trial_end(at(2025, 1, 1), bad)  # type: ignore[arg-type]


# --- laws ---------------------------------------------------------------------------------------

recurrences = st.sampled_from(list(BillingInterval)).flatmap(
    lambda unit: st.builds(Recurrence, st.just(unit), st.integers(1, MAX_INTERVAL_COUNT[unit]))
)
instants = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=st.just(UTC),
)


@given(anchor=instants, moment=instants, recurrence=recurrences)
def test_the_period_containing_a_moment_contains_it_and_is_laid_out_from_the_anchor(
    anchor: datetime, moment: datetime, recurrence: Recurrence
):
    period = period_containing(anchor, moment, recurrence)
    assert period.start <= moment < period.end
    assert next_period_end(anchor, moment, recurrence) == period.end
    assert next_period_end(anchor, period.start, recurrence) == period.end
    # Consecutive periods touch: the end is the next period's start.
    assert period_containing(anchor, period.end, recurrence).start == period.end


@given(anchor=instants, k=st.integers(-200, 200), recurrence=recurrences)
def test_month_boundaries_keep_the_anchors_day_or_the_months_last(
    anchor: datetime, k: int, recurrence: Recurrence
):
    end = boundary(anchor, recurrence, k)
    assert end.time() == anchor.time() and end.tzinfo == UTC
    if recurrence.interval in (BillingInterval.MONTH, BillingInterval.YEAR):
        last = calendar.monthrange(end.year, end.month)[1]
        assert end.day == min(anchor.day, last)
        months = (end.year - anchor.year) * 12 + end.month - anchor.month
        per = recurrence.count * (12 if recurrence.interval == BillingInterval.YEAR else 1)
        assert months == k * per
    assert boundary(anchor, recurrence, k) < boundary(anchor, recurrence, k + 1)


@given(anchor=instants, recurrence=recurrences, periods=st.integers(1, 30))
def test_period_ends_are_the_boundaries_in_order(
    anchor: datetime, recurrence: Recurrence, periods: int
):
    until = boundary(anchor, recurrence, periods)
    assert list(period_ends(anchor, anchor, until, recurrence)) == [
        boundary(anchor, recurrence, k) for k in range(1, periods + 1)
    ]
