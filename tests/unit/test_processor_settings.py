"""What the Processors and Risk rules pages make of typed text, and how they describe prices
and rules."""

from __future__ import annotations

import pytest

from backend.core.errors import ValidationFailed
from backend.services.payments import risk_rules
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule, describe
from backend.services.payments.money_input import parse_percent
from backend.services.payments.processor_pages import fallback_text as _fallback
from backend.services.payments.processor_pages import rules_from_form as _rules


@pytest.mark.parametrize(
    ("text", "locale", "pips"),
    [
        ("2.9", "en_US", 29_000),
        ("2,9", "fr_FR", 29_000),
        ("2.9", "de_DE", 29_000),  # plain decimal notation is always understood
        ("0.5 %", "en_US", 5_000),
        ("1.2345", "en_US", 12_345),
        ("100", "en_US", 1_000_000),
        ("0", "en_US", 0),
    ],
)
def test_percentages_become_exact_pips(text: str, locale: str, pips: int):
    assert parse_percent(text, locale) == pips


@pytest.mark.parametrize("text", ["", " ", "abc", "-1", "100.01", "2.90001", "1e3", "NaN", None])
def test_a_percentage_is_refused_rather_than_rounded(text: object):
    with pytest.raises(ValidationFailed):
        parse_percent(text)


def test_prices_are_written_the_locales_way():
    assert describe(STRIPE_DEFAULT) == "2.9% + $0.30"
    assert describe(FeeSchedule(15_000, {"EUR": 25}), "fr_FR") == "1,5% + 0,25\u00a0€"
    assert describe(FeeSchedule(30_000)) == "3%"


def test_typed_rules_are_read_in_the_ranges_currency():
    rules = _rules(
        {
            "currencies": "jpy",
            "min_amount": "1,000",
            "max_amount": "50,000",
            "fee_percent": "3.6",
            "fee_fixed": "0.25",
            "fee_fixed_currency": "eur",
        },
        "en_US",
    )
    assert rules.currencies == ("JPY",)
    assert (rules.min_amount, rules.max_amount) == (1_000, 50_000)  # JPY has no minor unit
    assert (rules.fee_percent_pips, rules.fee_fixed, rules.fee_fixed_currency) == (
        36_000,
        25,
        "EUR",
    )
    empty = _rules(dict.fromkeys(rules.__dataclass_fields__, "") | {"fee_percent": ""}, "en_US")
    assert empty.currencies == () and empty.min_amount is None and empty.fee_fixed is None


def test_a_dispute_fee_is_read_in_the_fees_currency_and_kept_on_the_configuration():
    from backend.models import GatewayConfig
    from backend.services.payments.fees import dispute_fee
    from backend.services.payments.gateway_configs import rules_of

    typed = dict.fromkeys(("currencies", "min_amount", "max_amount", "fee_percent"), "")
    rules = _rules(
        typed | {"fee_fixed": "", "fee_fixed_currency": "eur", "dispute_fee": "20,00"}, "fr_FR"
    )
    assert (rules.fee_fixed, rules.dispute_fee, rules.fee_fixed_currency) == (None, 2_000, "EUR")
    config = GatewayConfig(id="gc_1", merchant_id="mer_1", gateway="stripe")  # type: ignore[call-arg]
    config.dispute_fee = {"EUR": 2_000}
    assert rules_of(config).dispute_fee == 2_000 and rules_of(config).fee_fixed_currency == "EUR"
    assert dispute_fee("EUR", config.dispute_fee) == 2_000
    assert dispute_fee("USD", config.dispute_fee) == 1_500  # Stripe's 15.00 where none is set
    assert dispute_fee("JPY", None) == 1_500 and dispute_fee("KWD", None) == 15_000


def test_an_amount_range_needs_one_currency_to_be_read_in():
    typed = {
        "currencies": "USD EUR",
        "min_amount": "10",
        "max_amount": "",
        "fee_percent": "",
        "fee_fixed": "",
        "fee_fixed_currency": "",
    }
    with pytest.raises(ValidationFailed) as refused:
        _rules(typed, "en_US")
    assert refused.value.param == "currencies"


def test_the_page_says_where_unmatched_payments_go(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    from backend.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert _fallback(False, False) == "Payments go to the built-in sandbox."
        assert _fallback(True, False) == (
            "Live payments are refused until you add a Stripe processor."
        )
        assert _fallback(True, True) == "Live payments no processor above takes are refused."
    finally:
        get_settings.cache_clear()


def test_the_rules_table_follows_the_scoring_constants(monkeypatch: pytest.MonkeyPatch):
    card = risk_rules.rule_descriptions()[0]
    assert (card.name, card.points) == ("Card velocity", "more than 3: +25, more than 6: +50")
    monkeypatch.setattr(risk_rules, "CARD_VELOCITY_TIERS", ((9, 60), (4, 30)))
    assert risk_rules.rule_descriptions()[0].points == "more than 4: +30, more than 9: +60"
    assert "last hour" in card.counts
