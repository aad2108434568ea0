"""Proration in exact minor units: any plan or quantity change at any moment credits and charges
exactly, never more than a whole period's amount, and sums to the right total; in two-, zero-
(JPY) and three-decimal (KWD) currencies."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.currency import exponent
from backend.models.enums import BillingInterval
from backend.services.billing.periods import Period, Recurrence, period_containing
from backend.services.billing.proration import Item, Proration, prorate, share, unused

START = datetime(2025, 1, 31, tzinfo=UTC)
THIRTY_DAYS = Period(START, START + timedelta(days=30))


def test_an_upgrade_a_third_of_the_way_through():
    """$30.00 a month to $60.00 a month after 10 of 30 days: $20.00 back, $40.00 to pay."""
    change = START + timedelta(days=10)
    result = prorate(THIRTY_DAYS, change, Item("USD", 3_000), Item("USD", 6_000))
    assert result == Proration("USD", credit=2_000, charge=4_000)
    assert result.net == 2_000


def test_a_quantity_change_prorates_the_whole_line_not_each_unit():
    """3 seats to 5 seats of ¥333 after a third of the period: the line, ¥999 then ¥1,665."""
    change = START + timedelta(days=10)
    result = prorate(THIRTY_DAYS, change, Item("JPY", 333, 3), Item("JPY", 333, 5))
    assert (result.credit, result.charge) == (666, 1_110)


def test_zero_and_three_decimal_currencies():
    three_days = Period(START, START + timedelta(days=3))
    one_day = START + timedelta(days=1)
    # ¥1,000 over three days, one day used: ¥333.33 used rounds to ¥333, so ¥667 comes back.
    assert prorate(three_days, one_day, Item("JPY", 1_000), None).credit == 667
    # 10.000 KWD: 3.333 used (3.3333 rounds down), 6.667 back; 20.000 KWD: 13.333 to pay.
    result = prorate(three_days, one_day, Item("KWD", 10_000), Item("KWD", 20_000))
    assert (result.credit, result.charge) == (6_667, 13_333)


def test_the_half_unit_rounds_up_in_the_used_part():
    two_seconds = Period(START, START + timedelta(seconds=2))
    halfway = START + timedelta(seconds=1)
    assert share(1, two_seconds, halfway) == 1  # half a unit used: rounds up
    assert unused(1, two_seconds, halfway) == 0
    assert share(3, two_seconds, halfway) == 2  # 1.5 -> 2
    assert unused(3, two_seconds, halfway) == 1


def test_at_the_start_everything_and_at_the_end_nothing():
    old, new = Item("USD", 1_234, 2), Item("USD", 999, 3)
    assert prorate(THIRTY_DAYS, THIRTY_DAYS.start, old, new) == Proration("USD", 2_468, 2_997)
    assert prorate(THIRTY_DAYS, THIRTY_DAYS.end, old, new) == Proration("USD", 0, 0)


def test_fractions_of_a_second_do_not_count():
    moment = START + timedelta(days=10, microseconds=999_999)
    assert share(3_000, THIRTY_DAYS, moment) == share(3_000, THIRTY_DAYS, START + timedelta(10))


def test_refusals():
    with pytest.raises(ValueError, match="outside"):
        prorate(THIRTY_DAYS, START - timedelta(seconds=1), Item("USD", 1), None)
    with pytest.raises(ValueError, match="outside"):
        share(1, THIRTY_DAYS, THIRTY_DAYS.end + timedelta(seconds=1))
    with pytest.raises(ValueError, match="one currency"):
        prorate(THIRTY_DAYS, START, Item("USD", 1), Item("EUR", 1))
    with pytest.raises(ValueError, match="old item, a new item"):
        prorate(THIRTY_DAYS, START, None, None)
    with pytest.raises(ValueError):
        Item("USD", -1)
    with pytest.raises(ValueError):
        Item("USD", 1, -2)
    with pytest.raises(ValueError):
        share(-5, THIRTY_DAYS, START)
    with pytest.raises(ValueError, match="at least a second"):
        share(1, Period(START, START + timedelta(microseconds=10)), START)


# --- properties ---------------------------------------------------------------------------------

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "BHD", "KRW"]


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """A real billing period: a cycle of a random anchor and recurrence."""
    unit = draw(st.sampled_from(list(BillingInterval)))
    count = draw(st.integers(1, {"day": 365, "week": 52, "month": 12, "year": 1}[unit]))
    anchor = draw(
        st.datetimes(
            min_value=datetime(2001, 1, 1),
            max_value=datetime(2080, 1, 1),
            timezones=st.just(UTC),
        )
    )
    moment = anchor + timedelta(seconds=draw(st.integers(0, 10**9)))
    return period_containing(anchor, moment, Recurrence(unit, count))


@st.composite
def moments(draw: st.DrawFn, period: Period) -> datetime:
    offset = draw(st.integers(0, period.seconds))
    micro = draw(st.integers(0, 999_999)) if offset < period.seconds else 0
    return period.start + timedelta(seconds=offset, microseconds=micro)


@st.composite
def items(draw: st.DrawFn, currency: str) -> Item:
    # A whole period's line up to about a million major units, in the currency's minor unit.
    top = 10 ** (6 + exponent(currency))
    unit_amount = draw(st.integers(0, top))
    quantity = draw(st.integers(0, 50))
    return Item(currency, unit_amount, quantity)


@st.composite
def changes(draw: st.DrawFn) -> tuple[Period, datetime, Item, Item]:
    period = draw(periods())
    currency = draw(st.sampled_from(CURRENCIES))
    return period, draw(moments(period)), draw(items(currency)), draw(items(currency))


@given(changes())
def test_any_change_credits_and_charges_exactly(case: tuple[Period, datetime, Item, Item]):
    period, moment, old, new = case
    result = prorate(period, moment, old, new)
    # Never more than a whole period's amount, never below zero.
    assert 0 <= result.credit <= old.amount
    assert 0 <= result.charge <= new.amount
    # What was kept of the old item and what was handed back add up to what was billed.
    assert share(old.amount, period, moment) + result.credit == old.amount
    # What the customer pays for the period in all: exactly the used part of the old item and
    # the remaining part of the new one, in whole minor units.
    paid = old.amount + result.net
    assert paid == share(old.amount, period, moment) + unused(new.amount, period, moment)
    # Within a minor unit of the exact, proportional amount (each of the two parts rounds once).
    exact = Fraction(old.amount * elapsed(period, moment) + new.amount * left(period, moment))
    assert abs(paid - exact / period.seconds) <= 1


@given(changes())
def test_changing_to_the_same_item_costs_nothing(case: tuple[Period, datetime, Item, Item]):
    period, moment, old, _ = case
    assert prorate(period, moment, old, old).net == 0


@given(changes())
def test_a_change_and_its_reverse_at_the_same_moment_cancel(
    case: tuple[Period, datetime, Item, Item],
):
    period, moment, old, new = case
    there, back = prorate(period, moment, old, new), prorate(period, moment, new, old)
    assert there.net + back.net == 0


@st.composite
def histories(draw: st.DrawFn) -> tuple[Period, list[datetime], list[Item]]:
    """Several changes in one period: the items in force and the moments they changed."""
    period = draw(periods())
    currency = draw(st.sampled_from(CURRENCIES))
    n = draw(st.integers(1, 8))
    at = sorted(draw(moments(period)) for _ in range(n))
    return period, at, [draw(items(currency)) for _ in range(n + 1)]


@given(histories())
def test_any_chain_of_changes_sums_to_the_time_each_item_ran(
    case: tuple[Period, list[datetime], list[Item]],
):
    period, at, in_force = case
    billed = in_force[0].amount  # billed in advance for the whole period
    for moment, (old, new) in zip(at, itertools.pairwise(in_force), strict=True):
        billed += prorate(period, moment, old, new).net
    # Each item pays share(end of its run) - share(start of its run): a telescoping sum.
    edges = [period.start, *at, period.end]
    expected = sum(
        share(item.amount, period, b) - share(item.amount, period, a)
        for item, a, b in zip(in_force, edges, edges[1:], strict=False)
    )
    assert billed == expected
    assert billed >= 0
    assert billed <= max(item.amount for item in in_force)
    # No rounding drift: within one minor unit per run of the exact proportional amount.
    exact = sum(
        Fraction(item.amount * (whole(b - period.start) - whole(a - period.start)))
        for item, a, b in zip(in_force, edges, edges[1:], strict=False)
    ) / Fraction(period.seconds)
    assert abs(billed - exact) <= len(in_force)


@given(changes(), st.data())
def test_share_never_decreases_as_time_passes(
    case: tuple[Period, datetime, Item, Item], data: st.DataObject
):
    period, moment, item, _ = case
    later = data.draw(moments(period).filter(lambda m: m >= moment))
    assert share(item.amount, period, moment) <= share(item.amount, period, later)
    assert share(item.amount, period, period.start) == 0
    assert share(item.amount, period, period.end) == item.amount


def whole(span: timedelta) -> int:
    return span // timedelta(seconds=1)


def elapsed(period: Period, moment: datetime) -> int:
    return whole(moment - period.start)


def left(period: Period, moment: datetime) -> int:
    return period.seconds - elapsed(period, moment)
