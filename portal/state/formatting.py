"""Turning service-layer objects into the plain strings the pages show, in the merchant's
locale and time zone (Babel)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from babel.dates import format_date, format_datetime, format_time

from backend.core.currency import format_money, to_major
from backend.services import labels
from backend.services.reporting.periods import zone


def when(value: datetime | None, tz: str = "UTC", locale: str = "en_US") -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone(tz))
    return format_datetime(local, "medium", tzinfo=local.tzinfo, locale=locale)


def major_text(amount: int | None, currency: str) -> str:
    """An amount as a form's input shows it, in major units ("12.50", "500" JPY); "" for none."""
    return "" if amount is None else str(to_major(amount, currency))


def card_label(brand: str | None, last4: str | None, wallet: str | None = None) -> str:
    return labels.card(brand, last4, wallet) if last4 else "—"


def payment_row(p: Any, locale: str = "en_US", tz: str = "UTC") -> dict[str, str]:
    """One payment (a service-returned Payment) as a row of the lists."""
    local = p.created_at.astimezone(zone(tz))
    return {
        "id": p.id,
        "amount": format_money(p.amount, p.currency, locale),
        "status": p.status,
        "status_label": labels.status(p.status),
        "customer": p.customer_email or "—",
        "card": card_label(p.card_brand, p.card_last4, p.card_wallet),
        "date": format_date(local, "medium", locale=locale),
        "time": format_time(local, "short", tzinfo=local.tzinfo, locale=locale),
        "fresh": "",
    }


def strings(view: Any) -> dict[str, str]:
    """A service's view (a dataclass of words and numbers) as the string fields pages show."""
    return {key: str(value) for key, value in asdict(view).items()}
