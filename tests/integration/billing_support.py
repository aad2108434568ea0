"""Helpers for billing tests through the REST API: a plan, a customer on a test clock with a
saved card, a subscription, advancing the clock, and reading invoices, events and e-mails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import col, func, select

from backend.core.db import session_scope
from backend.models import DomainEvent, OutboundEmail
from tests.integration.api_client import Merchant

JAN_31 = int(datetime(2025, 1, 31, 9, 0, tzinfo=UTC).timestamp())
DAY = 86_400


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def plan(shop: Merchant, amount: int = 1_500, interval: str = "month", count: int = 1) -> str:
    product = ok(shop.post("/api/products", {"name": "Pro plan"}), 201)["product"]
    body = {
        "productId": product["id"],
        "unitAmountCents": amount,
        "currency": "USD",
        "recurring": {"interval": interval, "intervalCount": count},
    }
    return ok(shop.post("/api/prices", body), 201)["price"]["id"]


def clock_customer(
    shop: Merchant, token: str = "pm_card_visa", at: int = JAN_31
) -> tuple[str, str]:
    clock = ok(shop.post("/api/test_clocks", {"frozenTime": at}), 201)["testClock"]["id"]
    body = {"email": "ada@example.com", "name": "Ada", "testClock": clock}
    customer = ok(shop.post("/api/customers", body), 201)["customer"]
    assert customer["testClock"] == clock
    card = {"type": "card", "token": token}
    ok(shop.post(f"/api/customers/{customer['id']}/payment_methods", card), 201)
    return clock, customer["id"]


def subscribe(shop: Merchant, customer: str, price: str, **extra: Any) -> dict[str, Any]:
    body = {"customerId": customer, "items": [{"priceId": price, "quantity": 1}], **extra}
    return ok(shop.post("/api/subscriptions", body), 201)["subscription"]


def advance(shop: Merchant, clock: str, to: int) -> None:
    ok(shop.post(f"/api/test_clocks/{clock}/advance", {"frozenTime": to}))


def subscription(shop: Merchant, sub_id: str) -> dict[str, Any]:
    return ok(shop.get(f"/api/subscriptions/{sub_id}"))["subscription"]


def invoices_of(shop: Merchant, sub_id: str) -> list[dict[str, Any]]:
    found = ok(shop.get(f"/api/invoices?subscription={sub_id}&limit=100"))["invoices"]
    return sorted(found, key=lambda invoice: invoice["periodStart"])


def events_of(object_id: str) -> list[str]:
    with session_scope(readonly=True) as db:
        rows = db.exec(
            select(DomainEvent.type)
            .where(DomainEvent.object_id == object_id)
            .order_by(col(DomainEvent.created_at), col(DomainEvent.id))
        ).all()
    return list(rows)


def emails_to(merchant_id: str, template: str) -> int:
    with session_scope(readonly=True) as db:
        query = select(func.count()).where(
            OutboundEmail.merchant_id == merchant_id, OutboundEmail.template == template
        )
        return db.exec(query).one()
