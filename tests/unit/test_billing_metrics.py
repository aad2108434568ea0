"""The dashboard's billing figures (backend/services/billing/metrics.py): MRR normalises every
interval to a month exactly and rounds once per currency; churn and recovery rates read as
percentages, and say nothing rather than 0 % when there is nothing to divide."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services.billing.metrics import (
    BillingMetrics,
    Line,
    Rate,
    figures,
    monthly_share,
    mrr,
    round_half_up,
)

INTERVALS = {"day": 365, "week": 52, "month": 12, "year": 1}  # how many make a year
MAX_COUNT = {"day": 365, "week": 52, "month": 12, "year": 1}
amounts = st.integers(min_value=0, max_value=99_999_999_999)
currencies = st.sampled_from(["USD", "JPY", "KWD", "EUR"])


@st.composite
def lines(draw: st.DrawFn) -> Line:
    interval = draw(st.sampled_from(list(INTERVALS)))
    count = draw(st.integers(min_value=1, max_value=MAX_COUNT[interval]))
    return Line(draw(currencies), draw(amounts), interval, count)


@pytest.mark.parametrize(
    ("amount", "interval", "count", "monthly"),
    [
        (1_000, "month", 1, 1_000),
        (3_000, "month", 3, 1_000),
        (12_000, "year", 1, 1_000),
        (1_200, "week", 1, 5_200),  # 1,200 x 52 / 12
        (100, "day", 1, Fraction(36_500, 12)),  # 3,041.67 a month
        (1_500, "week", 2, Fraction(1_500 * 52, 24)),
        (365, "day", 365, Fraction(365, 12)),  # once a year
    ],
)
def test_each_interval_normalised_to_a_month(amount, interval, count, monthly):  # type: ignore[no-untyped-def]
    assert monthly_share(amount, interval, count) == monthly


def test_a_yearly_price_and_its_monthly_twelfth_make_the_same_mrr():
    assert (
        mrr([Line("USD", 11_988, "year", 1)]) == mrr([Line("USD", 999, "month", 1)]) == {"USD": 999}
    )


def test_rounding_is_once_per_currency_half_up():
    # Three daily prices of 1 minor unit: 365/12 = 30.4166... each. Rounded each, 30 x 3 = 90;
    # summed exactly, 91.25 rounds to 91.
    assert mrr([Line("USD", 1, "day", 1)] * 3) == {"USD": 91}
    # A half rounds up: ¥1 every two months is ¥0.5 a month, ¥1; ¥3 a week is 3 x 52 / 12 = 13.
    assert mrr([Line("JPY", 1, "month", 2)]) == {"JPY": 1}
    assert mrr([Line("JPY", 3, "week", 1)]) == {"JPY": 13}
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(3, 2)) == 2
    assert round_half_up(Fraction(7, 3)) == 2


def test_currencies_are_never_added_together():
    assert mrr([Line("USD", 1_000, "month", 1), Line("EUR", 500, "month", 1)]) == {
        "EUR": 500,
        "USD": 1_000,
    }


@settings(deadline=None)  # exact fractions of large sums: slow on a loaded machine
@given(st.lists(lines(), max_size=30))
def test_mrr_is_the_exact_monthly_sum_within_half_a_minor_unit(items: list[Line]) -> None:
    found = mrr(items)
    for currency in {line.currency for line in items}:
        exact = sum(
            (
                Fraction(line.amount * INTERVALS[line.interval], 12 * line.interval_count)
                for line in items
                if line.currency == currency
            ),
            Fraction(0),
        )
        assert isinstance(found[currency], int)
        assert -Fraction(1, 2) < found[currency] - exact <= Fraction(1, 2)
    assert set(found) == {line.currency for line in items}


@settings(deadline=None)  # exact fractions of large sums: slow on a loaded machine
@given(st.lists(lines(), max_size=20), st.permutations(list(range(20))))
def test_mrr_ignores_order(items: list[Line], order: list[int]) -> None:
    shuffled = [items[i] for i in order if i < len(items)]
    assert mrr(shuffled) == mrr(items)


@settings(deadline=None)  # exact fractions of large sums: slow on a loaded machine
@given(currencies, amounts, st.integers(min_value=1, max_value=12))
def test_monthly_prices_are_exact(currency: str, amount: int, count: int) -> None:
    # count months apart: amount / count, rounded half up
    assert mrr([Line(currency, amount * count, "month", count)]) == {currency: amount}


@settings(deadline=None)  # exact fractions of large sums: slow on a loaded machine
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_a_rate_reads_as_its_percentage(part: int, whole: int) -> None:
    rate = Rate(min(part, whole), whole)
    shown = rate.percent()
    assert shown.endswith("%")
    tenths = Fraction(shown[:-1].replace(",", ""))
    assert abs(tenths / 100 - Fraction(rate.part, whole)) <= Fraction(1, 2000)


def test_rates_in_words_and_the_locale():
    assert Rate(1, 8).percent() == "12.5%"
    assert Rate(1, 3).percent() == "33.3%"
    assert Rate(2, 3).percent() == "66.7%"
    assert Rate(1, 3).percent("de_DE") == "33,3\xa0%"
    assert Rate(0, 5).percent() == "0.0%"
    assert Rate(0, 0).percent() == "—" and Rate(0, 0).value is None


def test_the_dashboard_figures_in_words():
    from datetime import UTC, datetime

    shown = figures(
        BillingMetrics(
            mrr={"EUR": 1_250, "USD": 104_167},
            active=12,
            past_due=2,
            trialing=3,
            ever=20,
            churn=Rate(1, 10),
            recovery=Rate(3, 4),
            since=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    assert [(f.label, f.value) for f in shown] == [
        ("Monthly recurring revenue", "€12.50 · $1,041.67"),
        ("Active subscriptions", "12"),
        ("Churn, last 30 days", "10.0%"),
        ("Failed renewals recovered, last 30 days", "75.0%"),
    ]
    assert shown[1].note == "2 past due, 3 more on a trial"
    assert shown[2].note == "1 canceled of 10 subscriptions billing 30 days ago"
    assert shown[3].note == "3 of 4 failed renewals paid since"
    empty = figures(
        BillingMetrics({}, 0, 0, 0, 0, Rate(0, 0), Rate(0, 0), datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert [f.value for f in empty] == ["—", "0", "—", "—"]
    assert "No renewal failed" in empty[3].note
