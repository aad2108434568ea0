"""The payments list's selection in the page's address: read leniently, written canonically,
and handed to the export (and so to the list's query) as the same filters."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
import time_machine

from backend.services.reporting.exports import filters_from_query
from portal.state.payment_query import ALL, CUSTOM, PaymentQuery, is_day, parse


def test_every_filter_survives_the_round_trip_through_the_address() -> None:
    chosen = PaymentQuery(
        q="ada@example.com",
        status="partially_refunded",
        currency="EUR",
        method="card",
        gateway="stripe",
        risk="unreviewed",
        date=CUSTOM,
        date_from="2026-03-01",
        date_to="2026-03-31",
    )
    qs = chosen.query_string()
    assert qs == (
        "q=ada%40example.com&status=partially_refunded&currency=EUR&method=card"
        "&gateway=stripe&risk=unreviewed&date=custom&from=2026-03-01&to=2026-03-31"
    )
    assert parse(dict(parse_qsl(qs))) == (chosen, [])
    assert chosen.path() == "/payments?" + qs


def test_the_default_selection_is_the_bare_address() -> None:
    assert PaymentQuery().path() == "/payments"
    assert parse({}) == (PaymentQuery(), [])
    assert not PaymentQuery().filtered
    # "all" spelled out is the default too, not a filter.
    assert parse({"status": ALL, "currency": ALL, "risk": ALL}) == (PaymentQuery(), [])


def test_a_preset_range_keeps_no_days_and_days_mean_a_custom_range() -> None:
    assert parse({"date": "7d"})[0] == PaymentQuery(date="7d")
    assert PaymentQuery(date="7d", date_from="2026-01-01").params() == {"date": "7d"}
    # An address with days is a custom range, whatever its date says.
    assert parse({"date": "30d", "from": "2026-02-01"})[0] == PaymentQuery(
        date=CUSTOM, date_from="2026-02-01"
    )
    assert parse({"from": "2026-02-01", "to": "2026-02-03"})[0].date == CUSTOM


def test_what_cannot_be_read_is_dropped_with_a_note() -> None:
    query, notes = parse(
        {
            "status": "bogus",
            "currency": "XYZ",
            "method": "cheque",
            "gateway": "square",
            "risk": "maybe",
            "date": "fortnight",
            "from": "2026-13-45",
            "to": "2026-W01-1",  # a valid ISO week date, but not a day a date input sends
        }
    )
    assert query == PaymentQuery(date=CUSTOM)
    assert len(notes) == 8
    assert notes[0] == "Ignored status “bogus” from the address: not a payment status."
    assert any("dates are YYYY-MM-DD" in n and "2026-13-45" in n for n in notes)
    # What is left asks for a custom range without days: the list says so.
    assert query.range_problem().startswith("Choose a From or To date")


def test_lenient_spellings_and_limits() -> None:
    query, notes = parse({"currency": "eur", "q": "  " + "x" * 300 + "  "})
    assert notes == []
    assert query.currency == "EUR"
    assert query.q == "x" * 200


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (PaymentQuery(date=CUSTOM), "Choose a From or To date"),
        (PaymentQuery(date=CUSTOM, date_from="2026-03-02", date_to="2026-03-01"), "before"),
        (PaymentQuery(date=CUSTOM, date_from="2026-03-01", date_to="2026-03-01"), ""),
        (PaymentQuery(date=CUSTOM, date_from="2026-03-01"), ""),  # on or after that day
        (PaymentQuery(date=CUSTOM, date_to="2026-03-01"), ""),  # up to that day
        (PaymentQuery(date="90d"), ""),
    ],
)
def test_range_problems(query: PaymentQuery, problem: str) -> None:
    if problem:
        assert problem in query.range_problem()
    else:
        assert query.range_problem() == ""


@time_machine.travel(datetime(2026, 3, 20, 2, 0, tzinfo=UTC), tick=False)
def test_the_export_and_the_list_get_the_same_filters() -> None:
    # 02:00 UTC on 20 March is still 19 March in New York: the last 7 days end there.
    preset = PaymentQuery(status="refunded", date="7d").export_params("America/New_York")
    assert preset == {"status": "refunded", "from": "2026-03-13", "to": "2026-03-19"}
    filters = filters_from_query(preset, "America/New_York")
    assert filters.statuses == ("refunded",)
    assert filters.created_from == datetime(2026, 3, 13, 4, 0, tzinfo=UTC)
    assert filters.created_to == datetime(2026, 3, 20, 4, 0, tzinfo=UTC)

    custom = PaymentQuery(q="4242", date=CUSTOM, date_from="2026-03-01")
    assert custom.export_params("UTC") == {"q": "4242", "from": "2026-03-01"}
    assert PaymentQuery(currency="JPY").export_params("UTC") == {"currency": "JPY"}


def test_is_day() -> None:
    assert is_day("2026-02-28") and not is_day("2026-02-30") and not is_day("20260228")
    assert not is_day("\uff12\uff10\uff12\uff16-02-28")  # fullwidth digits: not a date input's
