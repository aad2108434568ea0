"""Amounts typed by people ("12.50", "1.234,56", "¥500") turned into integer minor units, and
percentages ("2.9", "2,9 %") into pips (hundredths of a basis point)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal

from backend.core.currency import exponent
from backend.core.errors import ValidationFailed
from backend.services.payments.fees import PIPS_PER_UNIT
from backend.services.payments.orders import MAX_AMOUNT

_SYMBOLS = "$€£¥₹₩₽₺₪₫฿ "


def parse_money(
    text: object, currency: str, locale: str = "en_US", *, param: str = "amount", minimum: int = 1
) -> int:
    """Minor units of `currency` for an amount written the way the merchant's locale writes it.

    Refuses anything that is not a positive amount with at most the currency's decimals
    (12.345 USD, 12.5 JPY), rather than rounding what a person typed.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("Enter an amount", param=param)
    if len(text) > 40:
        raise ValidationFailed("That amount is too long", param=param)
    cleaned = _without_symbols(text, currency)
    value = _decimal(cleaned, locale, f"{text!r} is not an amount", param)
    if not value.is_finite() or value < 0 or (value == 0 and minimum > 0):
        raise ValidationFailed("Enter an amount above zero", param=param)
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValidationFailed(
            f"{currency} amounts have {exponent(currency)} decimal places at most", param=param
        )
    if minor > MAX_AMOUNT:
        raise ValidationFailed("That amount is larger than any payment can be", param=param)
    return int(minor)


def typed_amount(text: str, locale: str = "en_US") -> Decimal | None:
    """A positive amount in major units as a person typed it ("12.50", "$1,234.56", "¥500") in
    no particular currency, or None when the text is not one (a search box tries it as such)."""
    if len(text) > 40:
        return None
    try:
        value = _decimal(_without_symbols(text, ""), locale, "", "amount")
    except ValidationFailed:
        return None
    return value if value.is_finite() and value > 0 else None


def _without_symbols(text: str, currency: str) -> str:
    """The number of an amount: without its currency code and symbols."""
    cleaned = text.strip().upper()
    if currency:
        cleaned = cleaned.removesuffix(currency.upper())
    return cleaned.strip(_SYMBOLS)


def parse_percent(text: object, locale: str = "en_US", *, param: str = "percent") -> int:
    """Pips (2.9% is 29,000) for a percentage between 0 and 100 written the locale's way;
    more than four decimal places (a fraction of a pip) is refused, not rounded."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("Enter a percentage", param=param)
    if len(text) > 20:
        raise ValidationFailed("That percentage is too long", param=param)
    cleaned = text.strip().removesuffix("%").strip()
    value = _decimal(cleaned, locale, f"{text!r} is not a percentage", param)
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValidationFailed("Enter a percentage from 0 to 100", param=param)
    pips = value * PIPS_PER_UNIT / 100
    if pips != pips.to_integral_value():
        raise ValidationFailed("A percentage has at most four decimal places", param=param)
    return int(pips)


def _decimal(cleaned: str, locale: str, message: str, param: str) -> Decimal:
    try:
        return parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        try:  # "12.50" typed on a de_DE account: plain decimal notation is always understood
            return Decimal(cleaned)
        except ArithmeticError:
            raise ValidationFailed(message, param=param) from None
