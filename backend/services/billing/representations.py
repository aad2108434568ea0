"""The public shape of billing's objects (camelCase, amounts in minor units, times in ISO 8601
UTC, a test clock's frozenTime in Unix seconds as the API takes it)."""

from __future__ import annotations

from typing import Any

from backend.models.billing import Price, Product, TestClock
from backend.services.billing.clock import unix
from backend.services.representations import timestamp


def product_to_dict(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "product",
        "livemode": p.livemode,
        "name": p.name,
        "description": p.description,
        "active": p.active,
        "metadata": p.metadata_,
        "createdAt": timestamp(p.created_at),
        "updatedAt": timestamp(p.updated_at),
    }


def price_to_dict(p: Price) -> dict[str, Any]:
    recurring = (
        {"interval": p.recurring_interval, "intervalCount": p.recurring_interval_count}
        if p.recurring_interval
        else None
    )
    return {
        "id": p.id,
        "object": "price",
        "livemode": p.livemode,
        "productId": p.product_id,
        "unitAmountCents": p.unit_amount,
        "currency": p.currency,
        "type": p.type,
        "recurring": recurring,
        "active": p.active,
        "nickname": p.nickname,
        "metadata": p.metadata_,
        "createdAt": timestamp(p.created_at),
        "updatedAt": timestamp(p.updated_at),
    }


def clock_to_dict(c: TestClock) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "test_clock",
        "livemode": c.livemode,
        "name": c.name,
        "frozenTime": unix(c),
        "status": c.status,
        "createdAt": timestamp(c.created_at),
        "updatedAt": timestamp(c.updated_at),
    }
