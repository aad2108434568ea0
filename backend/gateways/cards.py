"""Card-number helpers: pure functions, no framework, no I/O, safe to call anywhere.

Used by the sandbox gateway (which sees test card numbers) and by the hosted checkout's
client-side-style validation. Nothing here logs, stores or echoes a card number: error messages
never contain the number, and the only lasting trace of a number is its keyed `fingerprint`.

Brand ranges (issuer identification number prefixes), first match wins, no two overlap:

    visa        4
    mastercard  51-55, 2221-2720 (the 2-series)
    amex        34, 37
    discover    6011, 644-649, 65
    diners      300-305, 3095, 36, 38-39
    jcb         3528-3589
    unionpay    62, 8100-8171  (62 includes the Discover co-branded 622126-622925; like
                Stripe, such cards are reported as unionpay)
"""

from __future__ import annotations

from backend.core.security import token_digest

MIN_LENGTH = 12
MAX_LENGTH = 19
UNKNOWN = "unknown"

# (prefix length, lowest prefix, highest prefix, brand)
_RANGES: tuple[tuple[int, int, int, str], ...] = (
    (1, 4, 4, "visa"),
    (2, 51, 55, "mastercard"),
    (4, 2221, 2720, "mastercard"),
    (2, 34, 34, "amex"),
    (2, 37, 37, "amex"),
    (4, 6011, 6011, "discover"),
    (3, 644, 649, "discover"),
    (2, 65, 65, "discover"),
    (3, 300, 305, "diners"),
    (4, 3095, 3095, "diners"),
    (2, 36, 36, "diners"),
    (2, 38, 39, "diners"),
    (4, 3528, 3589, "jcb"),
    (2, 62, 62, "unionpay"),
    (4, 8100, 8171, "unionpay"),
)

# The lengths each brand issues. Unknown brands: anything from MIN_LENGTH to MAX_LENGTH.
_LENGTHS: dict[str, frozenset[int]] = {
    "visa": frozenset({13, 16, 19}),
    "mastercard": frozenset({16}),
    "amex": frozenset({15}),
    "discover": frozenset(range(16, 20)),
    "diners": frozenset(range(14, 20)),
    "jcb": frozenset(range(16, 20)),
    "unionpay": frozenset(range(16, 20)),
}

BRANDS: tuple[str, ...] = tuple(_LENGTHS)

# The wallets that hand a merchant a tokenised card (Stripe's card.wallet.type values for them).
WALLETS: tuple[str, ...] = ("apple_pay", "google_pay")

_FINGERPRINT_PURPOSE = "card_fingerprint"
FINGERPRINT_LENGTH = 32  # hex characters: 128 bits of a keyed HMAC-SHA256


def _is_digits(value: str) -> bool:
    # str.isdigit alone accepts "²" and other non-ASCII digits.
    return value.isascii() and value.isdigit()


def _luhn_sum(digits: str, *, double_first: bool) -> int:
    """Luhn sum of digits read right to left; the rightmost is doubled when double_first."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if (index % 2 == 0) == double_first:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total


def luhn_valid(number: str) -> bool:
    """True when number (ASCII digits only, at least two) passes the Luhn (mod 10) check."""
    if not isinstance(number, str) or len(number) < 2 or not _is_digits(number):
        return False
    return _luhn_sum(number, double_first=False) % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that, appended to partial, makes a Luhn-valid number."""
    if not isinstance(partial, str) or not partial or not _is_digits(partial):
        raise ValueError("expected a non-empty string of digits")
    return str((10 - _luhn_sum(partial, double_first=True) % 10) % 10)


def normalise_number(raw: str) -> str:
    """Digits only: spaces and dashes removed; 12-19 digits long, else ValueError.

    The Luhn check is separate (`luhn_valid`) so a caller can tell "not a number" from "a
    mistyped number". The message never repeats the input: it may be a real card number.
    """
    if not isinstance(raw, str):
        raise ValueError("A card number must be text")
    number = raw.strip().replace(" ", "").replace("-", "")
    if not number or not _is_digits(number):
        raise ValueError("A card number may contain only digits, spaces and dashes")
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise ValueError(f"A card number has {MIN_LENGTH} to {MAX_LENGTH} digits")
    return number


def detect_brand(number: str) -> str:
    """The card brand from the leading digits, or "unknown".

    Works on a partial number too (as typed, spaces and dashes allowed), so a checkout form can
    show the brand while the customer types: the brand is known once its prefix is complete.
    """
    if not isinstance(number, str):
        return UNKNOWN
    digits = number.strip().replace(" ", "").replace("-", "")
    if not digits or not _is_digits(digits):
        return UNKNOWN
    for length, low, high, brand in _RANGES:
        if len(digits) >= length and low <= int(digits[:length]) <= high:
            return brand
    return UNKNOWN


def card_lengths(brand: str) -> frozenset[int]:
    """The number lengths a brand issues (every length from 12 to 19 for an unknown brand)."""
    return _LENGTHS.get(brand, frozenset(range(MIN_LENGTH, MAX_LENGTH + 1)))


def cvc_length(brand: str) -> int:
    """Digits in the security code: 4 on American Express cards, 3 on every other brand."""
    return 4 if brand == "amex" else 3


def fingerprint(number: str) -> str:
    """A stable, keyed, irreversible identifier of a card number (32 hex characters).

    The same card gives the same fingerprint however it was typed and whichever merchant took
    it, so risk rules can count a card across the platform. It is an HMAC keyed by the app's
    secret: without the key, a fingerprint cannot be matched against the (small) space of card
    numbers by brute force. Raises ValueError when number is not a card number.
    """
    return token_digest(normalise_number(number), purpose=_FINGERPRINT_PURPOSE)[:FINGERPRINT_LENGTH]
