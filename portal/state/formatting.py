"""Turning service-layer objects into the plain strings the pages show."""

from __future__ import annotations

from backend.models import Payment
from backend.services.currency import format_money


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def payment_row(p: Payment, locale: str = "en_US") -> dict[str, str]:
    return {
        "id": p.id,
        "amount": format_money(p.amount, p.currency, locale),
        "status": p.status,
        "status_label": status_label(p.status),
        "customer": p.customer_email or "—",
        "card": f"{(p.card_brand or '').title()} •••• {p.card_last4}" if p.card_last4 else "—",
        "date": p.created_at.strftime("%d %b %Y"),
        "time": p.created_at.strftime("%H:%M UTC"),
    }
