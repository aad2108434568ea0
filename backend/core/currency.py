"""ISO 4217 currencies: minor-unit exponents, validation and formatting for people (Babel)."""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency

from backend.core.errors import ValidationFailed

# Active ISO 4217 codes and their minor-unit exponents (fund codes and precious metals excluded;
# codes withdrawn from circulation, such as HRK, BGN, ANG, SLL, ZWL and CUC, are refused).
ISO_4217_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "AFN",
            "ALL",
            "AMD",
            "AOA",
            "ARS",
            "AUD",
            "AWG",
            "AZN",
            "BAM",
            "BBD",
            "BDT",
            "BMD",
            "BND",
            "BOB",
            "BRL",
            "BSD",
            "BTN",
            "BWP",
            "BYN",
            "BZD",
            "CAD",
            "CDF",
            "CHF",
            "CNY",
            "COP",
            "CRC",
            "CUP",
            "CVE",
            "CZK",
            "DKK",
            "DOP",
            "DZD",
            "EGP",
            "ERN",
            "ETB",
            "EUR",
            "FJD",
            "FKP",
            "GBP",
            "GEL",
            "GHS",
            "GIP",
            "GMD",
            "GTQ",
            "GYD",
            "HKD",
            "HNL",
            "HTG",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "IRR",
            "JMD",
            "KES",
            "KGS",
            "KHR",
            "KPW",
            "KYD",
            "KZT",
            "LAK",
            "LBP",
            "LKR",
            "LRD",
            "LSL",
            "MAD",
            "MDL",
            "MGA",
            "MKD",
            "MMK",
            "MNT",
            "MOP",
            "MRU",
            "MUR",
            "MVR",
            "MWK",
            "MXN",
            "MYR",
            "MZN",
            "NAD",
            "NGN",
            "NIO",
            "NOK",
            "NPR",
            "NZD",
            "PAB",
            "PEN",
            "PGK",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RSD",
            "RUB",
            "SAR",
            "SBD",
            "SCR",
            "SDG",
            "SEK",
            "SGD",
            "SHP",
            "SLE",
            "SOS",
            "SRD",
            "SSP",
            "STN",
            "SVC",
            "SYP",
            "SZL",
            "THB",
            "TJS",
            "TMT",
            "TOP",
            "TRY",
            "TTD",
            "TWD",
            "TZS",
            "UAH",
            "USD",
            "UYU",
            "UZS",
            "VED",
            "VES",
            "WST",
            "XCD",
            "XCG",
            "YER",
            "ZAR",
            "ZMW",
            "ZWG",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "UYW": 4,
}


def normalise_currency(code: object, *, param: str = "currency") -> str:
    """The upper-case ISO code, or a clear error for anything that is not an active currency."""
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed("currency must be a three-letter ISO 4217 code", param=param)
    upper = code.strip().upper()
    if upper not in ISO_4217_EXPONENTS:
        raise ValidationFailed(
            f"{code!r} is not an active ISO 4217 currency code",
            code="invalid_currency",
            param=param,
        )
    return upper


def exponent(currency: str) -> int:
    return ISO_4217_EXPONENTS[normalise_currency(currency)]


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Exact decimal value in major units (for display and CSV only, never for arithmetic)."""
    return Decimal(amount_minor).scaleb(-exponent(currency))


def format_money(amount_minor: int, currency: str, locale: str = "en_US") -> str:
    """e.g. 123456 USD en_US -> '$1,234.56'; 1234 EUR es_ES -> '12,34 €'; 500 JPY -> '¥500'.

    Babel would round to CLDR's idea of a currency's digits (0 for HUF cash, for instance);
    money shown to a merchant shows exactly the ISO minor units that were charged, so the
    locale's pattern is given exactly the currency's ISO exponent in decimals.
    """
    exp = exponent(currency)
    value = Decimal(amount_minor).scaleb(-exp)
    try:
        loc = Locale.parse(locale)
        pattern = loc.currency_formats["standard"].pattern.split(";")[0]
        integer_part, _, fraction = pattern.partition(".")
        suffix = fraction.lstrip("0#")
        if fraction or exp:
            pattern = integer_part + ("." + "0" * exp if exp else "") + suffix
        return format_currency(value, currency, format=pattern, locale=loc, currency_digits=False)
    except (UnknownLocaleError, ValueError, LookupError, TypeError):
        return f"{value:.{exp}f} {currency}"
