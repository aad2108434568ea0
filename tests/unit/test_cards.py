"""Card-number helpers: Luhn, normalisation, brand detection, CVC length, fingerprints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.gateways import cards

digits = st.text(alphabet="0123456789", min_size=1, max_size=30)


# -- Luhn ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["4242424242424242", "378282246310005", "6011111111111117", "79927398713", "0000000000000"],
)
def test_luhn_accepts_valid_numbers(number: str):
    assert cards.luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424241",
        "79927398710",
        "",
        "4",
        "4242 4242 4242 4242",  # formatted input must be normalised first
        "4242-4242-4242-4242",
        "abcd",
        "\uff14\uff12" * 8,  # full-width digits are not ASCII
        "\u00b24242424242424242",  # superscript two: isdigit() but not a digit
    ],
)
def test_luhn_refuses_invalid_numbers_and_non_digits(number: str):
    assert not cards.luhn_valid(number)


def test_luhn_refuses_non_strings():
    assert not cards.luhn_valid(4242424242424242)  # type: ignore[arg-type]
    assert not cards.luhn_valid(None)  # type: ignore[arg-type]


@given(partial=digits)
def test_appending_the_check_digit_makes_a_valid_number(partial: str):
    number = partial + cards.luhn_check_digit(partial)
    assert cards.luhn_valid(number)
    # Exactly one check digit works.
    others = [partial + d for d in "0123456789" if d != cards.luhn_check_digit(partial)]
    assert not any(cards.luhn_valid(n) for n in others)


@given(partial=digits, data=st.data())
def test_luhn_catches_every_single_digit_error(partial: str, data: st.DataObject):
    number = partial + cards.luhn_check_digit(partial)
    index = data.draw(st.integers(min_value=0, max_value=len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[index]]))
    assert not cards.luhn_valid(number[:index] + wrong + number[index + 1 :])


@given(valid=digits.map(lambda p: p + cards.luhn_check_digit(p)))
def test_check_digit_of_a_valid_numbers_prefix_is_its_last_digit(valid: str):
    assert cards.luhn_check_digit(valid[:-1]) == valid[-1]


@pytest.mark.parametrize("bad", ["", "12a", "4242 4242", None])
def test_check_digit_needs_digits(bad):
    with pytest.raises(ValueError):
        cards.luhn_check_digit(bad)


# -- normalise_number ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4242424242424242", "4242424242424242"),
        ("4242 4242 4242 4242", "4242424242424242"),
        ("4242-4242-4242-4242", "4242424242424242"),
        ("  3782 822463 10005 ", "378282246310005"),
        ("1" * 12, "1" * 12),
        ("1" * 19, "1" * 19),
    ],
)
def test_normalise_number_strips_spaces_and_dashes(raw: str, expected: str):
    assert cards.normalise_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "1" * 11,
        "1" * 20,
        "4242.4242.4242.4242",
        "4242x4242x4242x4242",
        "\uff14\uff12" * 8,
    ],
)
def test_normalise_number_refuses_what_is_not_a_card_number(raw: str):
    with pytest.raises(ValueError):
        cards.normalise_number(raw)


def test_normalise_number_refuses_non_strings():
    with pytest.raises(ValueError):
        cards.normalise_number(4242424242424242)  # type: ignore[arg-type]


def test_normalise_number_never_repeats_the_number_in_its_error():
    number = "4242424242424242999"
    for raw in (number + "1", number[:10], number[:8] + "x" + number[8:]):  # long, short, junk
        with pytest.raises(ValueError) as info:
            cards.normalise_number(raw)
        assert number[:8] not in str(info.value)


@given(
    number=st.text(alphabet="0123456789", min_size=12, max_size=19),
    separators=st.lists(st.sampled_from([" ", "-", "  ", " - "]), max_size=6),
    data=st.data(),
)
def test_normalise_round_trips_formatted_numbers(number: str, separators, data):
    formatted = number
    for separator in separators:
        at = data.draw(st.integers(min_value=0, max_value=len(formatted)))
        formatted = formatted[:at] + separator + formatted[at:]
    assert cards.normalise_number(formatted) == number


# -- detect_brand --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("4000056655665556", "visa"),
        ("5555555555554444", "mastercard"),
        ("5105105105105100", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("2720990000000007", "mastercard"),
        ("378282246310005", "amex"),
        ("371449635398431", "amex"),
        ("340000000000009", "amex"),
        ("6011111111111117", "discover"),
        ("6445644564456445", "discover"),
        ("6500000000000002", "discover"),
        ("3056930009020004", "diners"),
        ("36227206271667", "diners"),
        ("3095000000000000", "diners"),
        ("3800000000000006", "diners"),
        ("3566002020360505", "jcb"),
        ("3528000000000007", "jcb"),
        ("3589000000000003", "jcb"),
        ("6200000000000005", "unionpay"),
        ("6205500000000000004", "unionpay"),
        ("8100000000000000", "unionpay"),
        ("2220990000000000", "unknown"),  # just below the 2-series
        ("2721000000000000", "unknown"),  # just above
        ("3527000000000000", "unknown"),
        ("3590000000000000", "unknown"),
        ("3060000000000000", "unknown"),
        ("6012000000000000", "unknown"),
        ("1234567890123452", "unknown"),
        ("9999999999999995", "unknown"),
    ],
)
def test_detect_brand(number: str, brand: str):
    assert cards.detect_brand(number) == brand


@pytest.mark.parametrize(
    ("typed", "brand"),
    [
        ("4", "visa"),
        ("42", "visa"),
        ("37", "amex"),
        ("5", "unknown"),  # 5 alone could still be anything
        ("55", "mastercard"),
        ("2", "unknown"),
        ("222", "unknown"),
        ("2223", "mastercard"),
        ("6011 11", "discover"),
        ("3782-822463", "amex"),
        ("", "unknown"),
        ("abc", "unknown"),
    ],
)
def test_detect_brand_works_while_typing(typed: str, brand: str):
    assert cards.detect_brand(typed) == brand


def test_detect_brand_of_non_string_is_unknown():
    assert cards.detect_brand(None) == "unknown"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("brand", "length"), [("amex", 15), ("visa", 16), ("mastercard", 16), ("diners", 14)]
)
def test_card_lengths(brand: str, length: int):
    assert length in cards.card_lengths(brand)


def test_card_lengths_of_unknown_brand_is_the_whole_range():
    assert cards.card_lengths("unknown") == frozenset(range(12, 20))
    assert 16 not in cards.card_lengths("amex")


# -- cvc_length ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "length"),
    [("amex", 4), ("visa", 3), ("mastercard", 3), ("discover", 3), ("jcb", 3), ("unknown", 3)],
)
def test_cvc_length(brand: str, length: int):
    assert cards.cvc_length(brand) == length


# -- fingerprint ---------------------------------------------------------------------------


def test_fingerprint_is_stable_and_ignores_formatting():
    plain = cards.fingerprint("4242424242424242")
    assert plain == cards.fingerprint("4242 4242 4242 4242")
    assert plain == cards.fingerprint("4242-4242-4242-4242")
    assert len(plain) == 32
    assert all(c in "0123456789abcdef" for c in plain)


def test_fingerprint_is_keyed_and_irreversible():
    import hashlib

    number = "4242424242424242"
    fp = cards.fingerprint(number)
    assert number not in fp and number[-4:] not in fp
    # Not a plain hash that anyone could compute from the number.
    assert fp != hashlib.sha256(number.encode()).hexdigest()[:32]


def test_fingerprint_depends_on_the_app_secret(monkeypatch: pytest.MonkeyPatch):
    from backend.core.config import get_settings

    number = "4242424242424242"
    before = cards.fingerprint(number)
    monkeypatch.setenv("SECRET_KEY", "another-secret-" + "x" * 40)
    get_settings.cache_clear()
    try:
        assert cards.fingerprint(number) != before
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert cards.fingerprint(number) == before


@given(
    a=st.text(alphabet="0123456789", min_size=12, max_size=19),
    b=st.text(alphabet="0123456789", min_size=12, max_size=19),
)
def test_different_cards_have_different_fingerprints(a: str, b: str):
    assert (cards.fingerprint(a) == cards.fingerprint(b)) == (a == b)


def test_fingerprint_refuses_what_is_not_a_card_number():
    with pytest.raises(ValueError):
        cards.fingerprint("pm_card_visa")
