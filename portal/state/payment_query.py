"""The payments list's selection as the page's address holds it.

Every filter and the search text live in the query string, so a link shows exactly the
selection it was copied from and the browser's Back button returns to the previous one; the
tab keeps nothing of its own. Reading is lenient: what cannot be understood (an unknown
status, a date that is not a date) is dropped, with a note saying so, never an error page.
Writing is canonical: defaults are left out and the parameters always come in one order.

The names are the CSV export's too (backend/services/exports.filters_from_query), so the
export link carries the selection on screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from backend.core.currency import ISO_4217_EXPONENTS
from backend.services.payments.charges import PAYMENT_METHOD_TYPES
from backend.services.reporting import payment_list, periods

ALL = "all"
ANY_TIME = "any"
CUSTOM = "custom"
STATUS_CHOICES = [
    ALL,
    "succeeded",
    "authorized",
    "processing",
    "partially_refunded",
    "refunded",
    "failed",
    "voided",
    "disputed",
    "requires_action",
]
METHOD_CHOICES = [ALL, *PAYMENT_METHOD_TYPES]
GATEWAY_CHOICES = [ALL, "sandbox", "stripe", "paypal"]
RISK_CHOICES = [ALL, *payment_list.RISK_FILTERS]
# The date filter: its value in the address, and what the select shows.
DATE_CHOICES = {
    ANY_TIME: "Any time",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    CUSTOM: "Custom range",
}
assert set(DATE_CHOICES) - {ANY_TIME, CUSTOM} == set(periods.RANGE_PRESETS)
MAX_QUERY = 200
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class PaymentQuery:
    """What the payments list shows: the search text and each filter, as on screen."""

    q: str = ""
    status: str = ALL
    currency: str = ALL
    method: str = ALL
    gateway: str = ALL
    risk: str = ALL
    date: str = ANY_TIME  # a DATE_CHOICES key; "custom" uses date_from and date_to
    date_from: str = ""  # YYYY-MM-DD, first day included
    date_to: str = ""  # YYYY-MM-DD, last day included

    @property
    def filtered(self) -> bool:
        return self != PaymentQuery()

    def range_problem(self) -> str:
        """Why the custom range cannot be applied ("" when it can): the list then shows
        nothing rather than results that do not match the dates on screen."""
        if self.date != CUSTOM:
            return ""
        if not (self.date_from or self.date_to):
            return "Choose a From or To date for the custom range (or pick another range)."
        if self.date_from and self.date_to and self.date_to < self.date_from:
            return "The To date is before the From date: fix the dates to see payments."
        return ""

    def params(self) -> dict[str, str]:
        """The address's query parameters, defaults left out, in one fixed order."""
        out = {
            "q": self.q,
            "status": self.status,
            "currency": self.currency,
            "method": self.method,
            "gateway": self.gateway,
            "risk": self.risk,
            "date": self.date,
        }
        if self.date == CUSTOM:
            out |= {"from": self.date_from, "to": self.date_to}
        return {k: v for k, v in out.items() if v and v not in (ALL, ANY_TIME)}

    def query_string(self) -> str:
        return urlencode(self.params())

    def path(self, base: str = "/payments") -> str:
        qs = self.query_string()
        return f"{base}?{qs}" if qs else base

    def export_params(self, tz: str) -> dict[str, str]:
        """The selection as exports.filters_from_query reads it (the list and the CSV use the
        same parameters): a preset range becomes its first and last local day."""
        out = {k: v for k, v in self.params().items() if k not in ("date", "from", "to")}
        if self.date in periods.RANGE_PRESETS:
            period = periods.period_for(self.date, tz)
            days = period.day_list()
            out |= {"from": days[0].isoformat(), "to": days[-1].isoformat()}
        elif self.date == CUSTOM:
            out |= {k: v for k, v in (("from", self.date_from), ("to", self.date_to)) if v}
        return out


def is_day(value: str) -> bool:
    """A real calendar day written YYYY-MM-DD (what a date input sends), nothing looser."""
    if not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse(params: Mapping[str, str]) -> tuple[PaymentQuery, list[str]]:
    """The selection a query string asks for, and a note for each part that was ignored."""
    notes: list[str] = []
    chosen: dict[str, str] = {}

    def pick(name: str, allowed: object, what: str) -> None:
        value = str(params.get(name, "")).strip()
        if not value or value == ALL:
            return
        if value in allowed:  # type: ignore[operator]
            chosen[name] = value
        else:
            notes.append(f"Ignored {name} “{value[:40]}” from the address: {what}.")

    chosen["q"] = str(params.get("q", "")).strip()[:MAX_QUERY]
    pick("status", STATUS_CHOICES, "not a payment status")
    currency = str(params.get("currency", "")).strip()
    if currency and currency != ALL:
        if currency.upper() in ISO_4217_EXPONENTS:
            chosen["currency"] = currency.upper()
        else:
            notes.append(f"Ignored currency “{currency[:40]}” from the address: not a currency.")
    pick("method", METHOD_CHOICES, "not a payment method")
    pick("gateway", GATEWAY_CHOICES, "not a gateway")
    pick("risk", RISK_CHOICES, "not a risk decision")
    for name, key in (("from", "date_from"), ("to", "date_to")):
        value = str(params.get(name, "")).strip()
        if not value:
            continue
        if is_day(value):
            chosen[key] = value
        else:
            notes.append(f"Ignored {name} “{value[:40]}” from the address: dates are YYYY-MM-DD.")
    when = str(params.get("date", "")).strip()
    if when in DATE_CHOICES:
        chosen["date"] = when
    elif when:
        notes.append(f"Ignored date “{when[:40]}” from the address: not a date range.")
    if "date_from" in chosen or "date_to" in chosen or params.get("from") or params.get("to"):
        # Days in the address mean a custom range, whatever else it says.
        chosen["date"] = CUSTOM
    query = PaymentQuery(**chosen)
    if query.date != CUSTOM:
        query = replace(query, date_from="", date_to="")
    return query, notes
