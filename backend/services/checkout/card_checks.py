"""The hosted checkout pay event's own check of the sandbox card form (the browser checks first,
checkout/card_form.js).

Pure functions over the submitted strings; they return message keys of the checkout catalog,
never the number. Nothing here stores or logs what it is given.
"""

from __future__ import annotations

import re
from datetime import date

from backend.gateways import cards

_EXPIRY = re.compile(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})")


def expiry_problem(value: str, today: date) -> str | None:
    match = _EXPIRY.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(1)) <= 12:
        return "err_expiry"
    month, year = int(match.group(1)), int(match.group(2))
    year = 2000 + year if year < 100 else year
    if (year, month) < (today.year, today.month):
        return "err_expired"
    return None


def card_problems(
    *, number: str, expiry: str, cvc: str, name: str, postal: str, today: date
) -> dict[str, str]:
    """Field id -> message key, for every field that is wrong; empty when all are right."""
    problems: dict[str, str] = {}
    if not name.strip():
        problems["cc-name"] = "err_name"
    try:
        digits = cards.normalise_number(number)
    except ValueError:
        digits = ""
    brand = cards.detect_brand(digits)
    if not digits or not cards.luhn_valid(digits) or len(digits) not in cards.card_lengths(brand):
        problems["cc-number"] = "err_number"
    if (problem := expiry_problem(expiry, today)) is not None:
        problems["cc-exp"] = problem
    if not (cvc.isascii() and cvc.isdigit() and len(cvc) == cards.cvc_length(brand)):
        problems["cc-csc"] = "err_cvc"
    if not postal.strip() or len(postal) > 16:
        problems["postal"] = "err_postal"
    return problems
