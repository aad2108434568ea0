"""Apple Pay and Google Pay payments, on SQLite and PostgreSQL.

Sandbox: the hosted checkout's test wallet hands over a tokenised test card
(pm_apple_pay_visa...), booked through the one booking path as any card payment; the API shows
Stripe's card.wallet shape and the portal reads "Apple Pay · Visa •••• 4242". Refused input
writes nothing. Stripe: a wallet PaymentMethod (as the Payment Element makes it) charged through
the real SDK against the local Stripe fake keeps its wallet from Stripe's answer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import AuditLog, CheckoutSession, DomainEvent, LedgerEntry, Payment
from backend.services import labels
from backend.services.checkout import paying
from backend.services.context import Scope
from backend.services.reporting import exports
from backend.services.reporting.dashboard import method_label
from backend.services.reporting.payment_list import PaymentFilters
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.stripe_support import platform_stripe

URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}
KEY = "sk_test_fake_wallets"


@contextmanager
def app_merchant() -> Iterator[Merchant]:
    """A new merchant on the whole API app, as configured now."""
    from backend.api import create_app

    with TestClient(create_app()) as client:
        yield new_merchant(client)


@pytest.fixture
def shop(configured_app: str) -> Iterator[Merchant]:
    with app_merchant() as merchant:
        yield merchant


def new_session(shop: Merchant, **body: Any) -> str:
    payload = {"amountCents": 2_500, "currency": "USD", **URLS, **body}
    response = shop.post("/api/checkout/sessions", payload)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def pay_with_wallet(session_id: str, wallet: str, email: str = "ada@example.com"):  # type: ignore[no-untyped-def]
    with session_scope() as db:
        result = paying.pay(db, session_id, token="", customer_email=email, wallet=wallet)
        db.expunge_all()
    return result


def counts(merchant_id: str) -> tuple[int, int, int, int]:
    """Payments, ledger entries, outbox events and audit rows of the merchant."""
    with session_scope(readonly=True) as db:
        payments = db.exec(
            select(func.count()).select_from(Payment).where(Payment.merchant_id == merchant_id)
        ).one()
        entries = db.exec(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.merchant_id == merchant_id)
        ).one()
        events = db.exec(
            select(func.count())
            .select_from(DomainEvent)
            .where(DomainEvent.merchant_id == merchant_id)
        ).one()
        audits = db.exec(
            select(func.count()).select_from(AuditLog).where(AuditLog.merchant_id == merchant_id)
        ).one()
    return payments, entries, events, audits


def test_the_sandbox_test_wallet_pays_like_a_tokenised_card(shop: Merchant) -> None:
    sid = new_session(shop)
    result = pay_with_wallet(sid, "apple_pay")
    assert result.status == "complete"
    payment = result.payment
    assert (payment.payment_method_type, payment.card_wallet) == ("card", "apple_pay")
    assert (payment.card_brand, payment.card_last4, payment.gateway) == ("visa", "4242", "sandbox")
    assert payment.status == "succeeded" and payment.amount_captured == 2_500
    # Booked like any card payment: fees set, net = total - fees, ledger and events written.
    assert payment.platform_fee > 0 and payment.gateway_fee > 0
    assert payment.net_amount == 2_500 - payment.platform_fee - payment.gateway_fee
    with session_scope(readonly=True) as db:
        entries = db.exec(select(LedgerEntry).where(LedgerEntry.merchant_id == shop.merchant_id))
        assert sum(e.amount for e in entries) == 0 and counts(shop.merchant_id)[1] > 0
        types = set(
            db.exec(select(DomainEvent.type).where(DomainEvent.merchant_id == shop.merchant_id))
        )
        assert {"payment.succeeded", "checkout.session.completed"} <= types
        session = db.get(CheckoutSession, sid)
        assert session is not None and session.payment_id == payment.id

    body = shop.get(f"/api/payments/{payment.id}").json()["payment"]
    assert body["paymentMethod"]["type"] == "card"
    assert body["paymentMethod"]["wallet"] == {"type": "apple_pay"}
    assert body["paymentMethod"]["last4"] == "4242"

    # The payments export names the wallet in its last column.
    text = "".join(exports.payments_csv(Scope(shop.merchant_id, False), PaymentFilters(), tz="UTC"))
    [row] = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert (row["payment_method"], row["card_last4"], row["card_wallet"]) == (
        "card",
        "4242",
        "apple_pay",
    )

    # What people read: the portal's lists and payment page, the customer's receipt.
    assert labels.card("visa", "4242", "apple_pay") == "Apple Pay · Visa •••• 4242"
    assert method_label("card", "visa", "apple_pay") == "Apple Pay · Visa"
    assert labels.card("visa", "4242") == "Visa •••• 4242"


def test_google_pay_through_the_api_and_a_declined_card_in_a_wallet(shop: Merchant) -> None:
    paid = shop.charge("pm_google_pay_visa")
    assert paid.status_code == 201, paid.text
    assert paid.json()["payment"]["paymentMethod"]["wallet"] == {"type": "google_pay"}

    declined = shop.charge("pm_google_pay_chargeDeclined")
    assert declined.status_code == 402
    failed = declined.json()["payment"]
    assert failed["status"] == "failed"
    assert failed["paymentMethod"]["wallet"] == {"type": "google_pay"}

    typed = shop.charge("4242424242424242").json()["payment"]
    assert typed["paymentMethod"]["wallet"] is None  # a card typed in has no wallet


def test_a_declined_wallet_payment_leaves_the_session_open(shop: Merchant) -> None:
    sid = new_session(shop)
    with session_scope() as db:
        result = paying.pay(
            db, sid, token="pm_apple_pay_chargeDeclined", customer_email="ada@example.com"
        )
        assert result.status == "declined" and result.payment.card_wallet == "apple_pay"
    assert pay_with_wallet(sid, "google_pay").status == "complete"


@pytest.mark.parametrize("wallet", ["samsung_pay", "", "apple_pay_visa", "APPLE_PAY"])
def test_an_unknown_wallet_is_refused_and_nothing_is_written(shop: Merchant, wallet: str) -> None:
    sid = new_session(shop)
    before = counts(shop.merchant_id)
    with pytest.raises(ValidationFailed) as refused:
        pay_with_wallet(sid, wallet)
    assert refused.value.param == "paymentMethod.wallet"
    assert counts(shop.merchant_id) == before
    with session_scope(readonly=True) as db:
        session = db.get(CheckoutSession, sid)
        assert session is not None and session.status == "open" and session.payment_id is None


def test_an_unknown_wallet_token_is_a_422_and_writes_nothing(shop: Merchant) -> None:
    before = counts(shop.merchant_id)
    for token in ("pm_apple_pay_nosuchcard", "pm_paypal_visa", "pm_apple_pay_"):
        response = shop.post(
            "/api/payments/charge",
            {"amountCents": 1_000, "currency": "USD", "paymentMethod": {"token": token}},
        )
        assert response.status_code == 422, (token, response.text)
        assert response.json()["error"]["code"] == "not_a_test_card"
    assert counts(shop.merchant_id)[0] == before[0]


def test_a_session_without_cards_has_no_wallet(shop: Merchant) -> None:
    sid = new_session(shop, paymentMethods=["paypal"])
    before = counts(shop.merchant_id)
    with pytest.raises(ValidationFailed):
        pay_with_wallet(sid, "apple_pay")
    assert counts(shop.merchant_id) == before


# -- Stripe: the Payment Element's wallets ----------------------------------------------------


@pytest.fixture
def fake(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with platform_stripe(monkeypatch, KEY) as fake:
        yield fake


@pytest.fixture
def stripe_shop(fake: FakeStripe) -> Iterator[Merchant]:
    with app_merchant() as merchant:
        yield merchant


def test_a_payment_element_wallet_payment_keeps_stripes_wallet(
    stripe_shop: Merchant, fake: FakeStripe
) -> None:
    sid = new_session(stripe_shop)
    method = fake.wallet_payment_method("apple_pay")
    with session_scope() as db:
        result = paying.pay(db, sid, token=method, customer_email="ada@example.com")
        assert result.status == "complete" and result.payment.gateway == "stripe"
        assert result.payment.card_wallet == "apple_pay"
        payment_id = result.payment.id
    [created] = fake.calls("POST", "/v1/payment_intents")
    assert created.params["payment_method"] == method
    assert created.params["payment_method_types"] == ["card"]  # a wallet is a card at Stripe
    body = stripe_shop.get(f"/api/payments/{payment_id}").json()["payment"]
    assert body["paymentMethod"]["wallet"] == {"type": "apple_pay"}

    charged = stripe_shop.charge(fake.wallet_payment_method("google_pay"))
    assert charged.status_code == 201, charged.text
    assert charged.json()["payment"]["paymentMethod"]["wallet"] == {"type": "google_pay"}


def test_with_stripe_keys_the_sandbox_test_wallet_is_refused(
    stripe_shop: Merchant, fake: FakeStripe
) -> None:
    sid = new_session(stripe_shop)
    before = counts(stripe_shop.merchant_id)
    with pytest.raises(ValidationFailed):
        pay_with_wallet(sid, "apple_pay")
    assert counts(stripe_shop.merchant_id) == before
    assert fake.calls("POST", "/v1/payment_intents") == []


def test_a_wallet_card_is_saved_for_future_payments_when_ticked(shop: Merchant) -> None:
    from backend.models import PaymentMethod as SavedCard

    sid = new_session(shop, savePaymentMethod=True)
    with session_scope() as db:
        result = paying.pay(
            db, sid, token="", customer_email="ada@example.com", save_card=True, wallet="apple_pay"
        )
        assert result.status == "complete" and result.payment.card_wallet == "apple_pay"
        saved = db.exec(select(SavedCard).where(SavedCard.merchant_id == shop.merchant_id)).all()
        assert [(c.brand, c.last4, c.customer_id) for c in saved] == [
            ("visa", "4242", result.payment.customer_id)
        ]
