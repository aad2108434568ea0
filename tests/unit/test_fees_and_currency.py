"""Fee arithmetic and money formatting: exact integers, the documented rounding rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.currency import ISO_4217_EXPONENTS, format_money, normalise_currency
from backend.core.errors import ValidationFailed
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule, compute_fees, percent_of


@pytest.mark.parametrize(
    ("pips", "platform", "gateway", "net"),
    [(30_000, 300, 320, 9380), (15_000, 150, 320, 9530), (5_000, 50, 320, 9630)],
)
def test_worked_examples_from_the_fee_table(pips: int, platform: int, gateway: int, net: int):
    fees = compute_fees(10_000, "USD", FeeSchedule(pips), STRIPE_DEFAULT)
    assert (fees.platform_fee, fees.gateway_fee, fees.net) == (platform, gateway, net)


def test_percentages_round_half_up_on_integers():
    assert percent_of(50, 30_000) == 2  # 1.5 -> 2
    assert percent_of(49, 30_000) == 1  # 1.47 -> 1
    assert percent_of(10**20, 29_000) == 29 * 10**17  # no float overflow or drift


def test_fixed_fee_applies_only_in_its_currency():
    assert compute_fees(10_000, "EUR", FeeSchedule(0), STRIPE_DEFAULT).gateway_fee == 290


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    currency=st.sampled_from(sorted(ISO_4217_EXPONENTS)),
    platform_pips=st.integers(min_value=0, max_value=1_000_000),
    gateway_pips=st.integers(min_value=0, max_value=1_000_000),
    fixed=st.integers(min_value=0, max_value=10_000),
)
def test_fee_plus_net_is_total(amount, currency, platform_pips, gateway_pips, fixed):
    fees = compute_fees(
        amount, currency, FeeSchedule(platform_pips), FeeSchedule(gateway_pips, {currency: fixed})
    )
    assert fees.platform_fee + fees.gateway_fee + fees.net == amount
    assert min(fees.platform_fee, fees.gateway_fee, fees.net) >= 0


def test_at_least_fifty_active_currencies_with_iso_exponents():
    assert len(ISO_4217_EXPONENTS) >= 150
    assert (ISO_4217_EXPONENTS["JPY"], ISO_4217_EXPONENTS["USD"], ISO_4217_EXPONENTS["KWD"]) == (
        0,
        2,
        3,
    )


@pytest.mark.parametrize("code", ["usd", " EUR ", "jpy"])
def test_currency_codes_are_normalised(code: str):
    assert normalise_currency(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["", "US", "XXX", "HRK", "BTC", 840, None])
def test_unknown_or_withdrawn_currencies_are_refused(code: object):
    with pytest.raises(ValidationFailed) as info:
        normalise_currency(code)
    assert info.value.param == "currency"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (123456, "USD", "en_US", "$1,234.56"),
        (500, "JPY", "en_US", "¥500"),
        (1234, "KWD", "en_US", "KWD1.234"),
        (-1234, "USD", "en_US", "-$12.34"),
        (10000, "HUF", "hu_HU", "100,00\xa0Ft"),
        (123456, "EUR", "fr_FR", "1\u202f234,56\xa0€"),
        (123456, "EUR", "es_ES", "1.234,56\xa0€"),
    ],
)
def test_format_money_shows_exact_minor_units(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_format_money_survives_an_unknown_locale():
    assert format_money(100, "USD", "xx_YY") == "1.00 USD"
