"""A merchant's view of the REST API for tests: an HTTP client with its key, and helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from backend.core.db import session_scope
from backend.services.identity import accounts


@dataclass
class Merchant:
    client: TestClient
    merchant_id: str
    key: str

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def post(self, path: str, json: Any = None, *, key: str | None = None) -> httpx.Response:
        return self.client.post(path, json=json, headers=self.headers(key))

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers())

    def order(self, amount: int = 10_000, currency: str = "USD", **extra: Any) -> str:
        response = self.post("/api/orders", {"amountCents": amount, "currency": currency, **extra})
        assert response.status_code == 201, response.text
        return response.json()["order"]["id"]

    def charge(
        self,
        token: str = "4242424242424242",
        *,
        capture: bool = True,
        amount: int = 10_000,
        currency: str = "USD",
        **extra: Any,
    ) -> httpx.Response:
        path = "/api/payments/charge" if capture else "/api/payments/authorize"
        body = {
            "orderId": self.order(amount, currency),
            "paymentMethod": {"type": "card", "token": token},
            **extra,
        }
        return self.post(path, body)


def new_merchant(client: TestClient, name: str = "Shop") -> Merchant:
    email = f"owner-{uuid.uuid4().hex[:10]}@shop.test"
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=email, password="a long passphrase 1", name=name
        )
    return Merchant(client, created.merchant.id, created.test_secret_key)
