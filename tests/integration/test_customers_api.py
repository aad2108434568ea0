"""Customers and saved cards through the REST API, and charging a saved card through the charge
path (charge_saved_method), on SQLite and PostgreSQL: CRUD, search, soft delete, isolation,
idempotency, bad input, every sandbox test card saved, off-session charges booked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound
from backend.models import AuditLog, Customer, DomainEvent, Payment, PaymentAttempt
from backend.models import PaymentMethod as SavedCard
from backend.models.enums import PaymentStatus
from backend.services.context import Scope
from backend.services.payments import charges
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import assert_ledger_consistent


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def create(shop: Merchant, key: str | None = None, **body: Any) -> dict[str, Any]:
    response = shop.post("/api/customers", {"email": "ada@example.com", **body}, key=key)
    assert response.status_code == 201, response.text
    return response.json()["customer"]


def save(shop: Merchant, customer_id: str, token: str) -> Any:
    return shop.post(
        f"/api/customers/{customer_id}/payment_methods", {"type": "card", "token": token}
    )


def events_of(object_id: str) -> list[str]:
    with session_scope(readonly=True) as db:
        rows = db.exec(
            select(DomainEvent.type)
            .where(DomainEvent.object_id == object_id)
            .order_by(col(DomainEvent.created_at), col(DomainEvent.id))
        ).all()
    return list(rows)


# -- customers ----------------------------------------------------------------------------------


def test_create_read_update_with_events_and_audit(shop: Merchant) -> None:
    address = {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "us"}
    made = create(shop, name="Ada Lovelace", metadata={"plan": "gold"}, address=address)
    assert made["id"].startswith("cus_") and made["object"] == "customer"
    assert made["email"] == "ada@example.com" and made["name"] == "Ada Lovelace"
    assert made["address"] == {**address, "country": "US", "line2": None, "state": None}
    assert made["metadata"] == {"plan": "gold"} and made["defaultPaymentMethod"] is None
    assert made["livemode"] is False and made["deleted"] is False

    got = shop.get(f"/api/customers/{made['id']}")
    assert got.status_code == 200 and got.json() == {"success": True, "customer": made}

    changed = shop.post(f"/api/customers/{made['id']}", {"name": "Ada King", "phone": "+44 1"})
    assert changed.status_code == 200, changed.text
    body = changed.json()["customer"]
    assert body["name"] == "Ada King" and body["phone"] == "+44 1"
    assert body["address"] == made["address"] and body["metadata"] == {"plan": "gold"}  # kept

    cleared = shop.post(
        f"/api/customers/{made['id']}", {"name": None, "address": None, "metadata": {"a": "b"}}
    ).json()["customer"]
    assert cleared["name"] is None and cleared["address"] is None
    assert cleared["metadata"] == {"a": "b"}  # replaced, not merged

    assert events_of(made["id"]) == ["customer.created", "customer.updated", "customer.updated"]
    with session_scope(readonly=True) as db:
        actions = db.exec(select(AuditLog.action).where(AuditLog.object_id == made["id"])).all()
    assert sorted(actions) == ["customer.created", "customer.updated", "customer.updated"]


def test_list_pages_and_search(shop: Merchant) -> None:
    made = [
        create(shop, email=f"{name.lower()}@example.com", name=name)["id"]
        for name in ("Zed", "Amy", "Zoe", "Bob", "zach")
    ]
    first = shop.get("/api/customers?limit=2").json()
    assert [c["id"] for c in first["customers"]] == made[::-1][:2]
    second = shop.get(f"/api/customers?limit=2&cursor={first['nextCursor']}").json()
    third = shop.get(f"/api/customers?limit=2&cursor={second['nextCursor']}").json()
    assert [c["id"] for c in second["customers"] + third["customers"]] == made[::-1][2:]
    assert third["nextCursor"] is None

    found = shop.get("/api/customers?q=Z").json()["customers"]  # name or e-mail, any case
    assert {c["name"] for c in found} == {"Zed", "Zoe", "zach"}
    assert [c["id"] for c in shop.get("/api/customers?q=amy@").json()["customers"]] == [made[1]]
    assert [c["id"] for c in shop.get(f"/api/customers?q={made[3]}").json()["customers"]] == [
        made[3]
    ]
    by_email = shop.get("/api/customers?email=BOB@example.com").json()["customers"]
    assert [c["id"] for c in by_email] == [made[3]]
    assert shop.get("/api/customers?q=nobody").json()["customers"] == []
    bad = shop.get("/api/customers?cursor=cus_unknown")
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "cursor"


def test_soft_delete_hides_the_customer_and_detaches_its_cards(shop: Merchant) -> None:
    customer = create(shop, name="Gone Soon")["id"]
    assert save(shop, customer, "pm_card_visa").status_code == 201
    deleted = shop.client.delete(f"/api/customers/{customer}", headers=shop.headers())
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "id": customer, "deleted": True}

    for response in (
        shop.get(f"/api/customers/{customer}"),
        shop.post(f"/api/customers/{customer}", {"name": "Back"}),
        shop.client.delete(f"/api/customers/{customer}", headers=shop.headers()),
        shop.get(f"/api/customers/{customer}/payment_methods"),
        save(shop, customer, "pm_card_visa"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "resource_missing"
    assert shop.get("/api/customers?q=Gone").json()["customers"] == []
    assert shop.get("/api/customers").json()["customers"] == []

    with session_scope(readonly=True) as db:
        row = db.get(Customer, customer)
        assert row is not None and row.deleted_at is not None  # kept for history
        cards = db.exec(select(SavedCard).where(SavedCard.customer_id == customer)).all()
        assert len(cards) == 1 and cards[0].detached_at is not None
    assert events_of(customer)[-1] == "customer.deleted"

    # An order with the deleted customer's e-mail belongs to a new customer.
    shop.order(customerEmail="ada@example.com")
    with session_scope(readonly=True) as db:
        live = db.exec(
            select(Customer).where(
                Customer.merchant_id == shop.merchant_id, col(Customer.deleted_at).is_(None)
            )
        ).all()
    assert [c.email for c in live] == ["ada@example.com"] and live[0].id != customer


def test_another_merchants_customer_is_not_found(client: TestClient, shop: Merchant) -> None:
    customer = create(shop)["id"]
    card = save(shop, customer, "pm_card_visa").json()["paymentMethod"]["id"]
    other = new_merchant(client, "Other")
    for response in (
        other.get(f"/api/customers/{customer}"),
        other.post(f"/api/customers/{customer}", {"name": "Mine"}),
        other.client.delete(f"/api/customers/{customer}", headers=other.headers()),
        other.get(f"/api/customers/{customer}/payment_methods"),
        save(other, customer, "pm_card_visa"),
        other.client.delete(
            f"/api/customers/{customer}/payment_methods/{card}", headers=other.headers()
        ),
    ):
        assert response.status_code == 404, response.text
    assert other.get("/api/customers").json()["customers"] == []
    assert other.get(f"/api/customers?cursor={customer}").status_code == 422
    # ...and another customer's card is not this customer's.
    mine = create(other)["id"]
    taken = other.post(f"/api/customers/{mine}", {"defaultPaymentMethod": card})
    assert taken.status_code == 404
    assert shop.get(f"/api/customers/{customer}").json()["customer"]["name"] is None


def test_idempotent_create(shop: Merchant) -> None:
    first = shop.post("/api/customers", {"email": "ada@example.com"}, key="cus-1")
    again = shop.post("/api/customers", {"email": "ada@example.com"}, key="cus-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = shop.post("/api/customers", {"email": "bob@example.com"}, key="cus-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(shop.get("/api/customers").json()["customers"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "email"),
        ({"email": "not an e-mail"}, 422, "email"),
        ({"email": "a@example.com", "surprise": 1}, 400, "surprise"),
        ({"email": "a@example.com", "name": 5}, 400, "name"),
        ({"email": "a@example.com", "address": {"country": "USA"}}, 400, "address.country"),
        ({"email": "a@example.com", "address": {"country": "1A"}}, 422, "address.country"),
        ({"email": "a@example.com", "address": {"zip": "1"}}, 400, "address.zip"),
        ({"email": "a@example.com", "metadata": {"k": 1}}, 400, "metadata.k"),
        ({"email": "a@example.com", "metadata": {f"k{i}": "v" for i in range(51)}}, 422, None),
    ],
)
def test_bad_input_is_refused(shop: Merchant, body: dict, status: int, param: str | None) -> None:
    response = shop.post("/api/customers", body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert response.json()["success"] is False and error["message"]
    if param:
        assert error["param"] == param
    assert shop.get("/api/customers").json()["customers"] == []


# -- saved cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "last4", "authentication"),
    [
        ("pm_card_visa", "4242", False),
        ("4000 0000 0000 0341", "0341", False),
        ("pm_card_chargeCustomerFail", "0341", False),
        ("4000002760003184", "3184", True),
        ("pm_card_authenticationRequired", "3184", True),
        ("pm_card_mastercard", "4444", False),
    ],
)
def test_each_sandbox_card_that_saves(
    shop: Merchant, token: str, last4: str, authentication: bool
) -> None:
    customer = create(shop)["id"]
    response = save(shop, customer, token)
    assert response.status_code == 201, response.text
    card = response.json()["paymentMethod"]
    assert card["id"].startswith("pm_") and card["customer"] == customer
    assert card["card"]["last4"] == last4 and card["gatewayType"] == "sandbox"
    assert card["authenticationRequired"] is authentication
    assert "number" not in response.text and token.replace(" ", "") not in response.text[40:]
    assert (
        shop.get(f"/api/customers/{customer}").json()["customer"]["defaultPaymentMethod"]
        == (card["id"])
    )
    assert events_of(card["id"]) == ["payment_method.attached"]
    with session_scope(readonly=True) as db:
        row = db.get(SavedCard, card["id"])
        assert row is not None and row.gateway_payment_method_id.startswith("sbx_pm_")
        assert "0000" not in row.gateway_payment_method_id  # never a number


@pytest.mark.parametrize(
    ("token", "status", "code", "decline"),
    [
        ("pm_card_chargeDeclined", 402, "card_declined", "card_declined"),
        ("4000000000009995", 402, "card_declined", "insufficient_funds"),
        ("4111 1111 1111 1111", 422, "not_a_test_card", None),
    ],
)
def test_cards_that_do_not_save(
    shop: Merchant, token: str, status: int, code: str, decline: str | None
) -> None:
    customer = create(shop)["id"]
    response = save(shop, customer, token)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error.get("declineCode") == decline
    assert shop.get(f"/api/customers/{customer}/payment_methods").json()["paymentMethods"] == []
    with session_scope(readonly=True) as db:
        row = db.get(Customer, customer)
        assert row is not None and row.default_payment_method_id is None
        # A refusal keeps the processor's customer: it is made once per processor account.
        assert list(row.gateway_customer_ids) == (["sandbox"] if status == 402 else [])


def test_list_detach_and_the_default(shop: Merchant) -> None:
    customer = create(shop)["id"]
    first, second, third = (
        save(shop, customer, t).json()["paymentMethod"]["id"]
        for t in ("pm_card_visa", "pm_card_mastercard", "pm_card_amex")
    )
    with session_scope(readonly=True) as db:
        saved = db.exec(select(SavedCard).where(SavedCard.customer_id == customer)).all()
    assert len({c.gateway_customer_id for c in saved}) == 1  # one processor customer

    listed = shop.get(f"/api/customers/{customer}/payment_methods?limit=2").json()
    assert [m["id"] for m in listed["paymentMethods"]] == [third, second]
    rest = shop.get(f"/api/customers/{customer}/payment_methods?cursor={listed['nextCursor']}")
    assert [m["id"] for m in rest.json()["paymentMethods"]] == [first]

    default = shop.post(f"/api/customers/{customer}", {"defaultPaymentMethod": second})
    assert default.json()["customer"]["defaultPaymentMethod"] == second
    path = f"/api/customers/{customer}/payment_methods/{second}"
    detached = shop.client.delete(path, headers=shop.headers())
    assert detached.status_code == 200, detached.text
    assert detached.json()["paymentMethod"]["detachedAt"] is not None
    assert shop.client.delete(path, headers=shop.headers()).status_code == 404
    # The default moves to the newest card left.
    assert shop.get(f"/api/customers/{customer}").json()["customer"]["defaultPaymentMethod"] == (
        third
    )
    listed = shop.get(f"/api/customers/{customer}/payment_methods").json()["paymentMethods"]
    assert [m["id"] for m in listed] == [third, first]
    assert events_of(second) == ["payment_method.attached", "payment_method.detached"]
    unknown = shop.post(f"/api/customers/{customer}", {"defaultPaymentMethod": second})
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == (
        "defaultPaymentMethod"
    )
    cleared = shop.post(f"/api/customers/{customer}", {"defaultPaymentMethod": None})
    assert cleared.json()["customer"]["defaultPaymentMethod"] is None


# -- charging a saved card ----------------------------------------------------------------------


def saved_card(shop: Merchant, token: str) -> tuple[str, str]:
    customer = create(shop, email=f"{token[-6:].lower()}@example.com")["id"]
    response = save(shop, customer, token)
    assert response.status_code == 201, response.text
    return customer, response.json()["paymentMethod"]["id"]


def charge_saved(
    shop: Merchant,
    customer: str,
    card: str | None,
    key: str,
    amount: int = 2_500,
    currency: str = "USD",
) -> charges.PaymentOutcome:
    with session_scope() as db:
        outcome = charges.charge_saved_method(
            db,
            Scope(shop.merchant_id, False),
            customer,
            card,
            amount,
            currency,
            key,
            "Monthly plan",
            {"invoice": "in_1"},
        )
        db.expunge(outcome.payment)
    return outcome


def test_charge_saved_card_succeeds_through_the_charge_path(shop: Merchant) -> None:
    customer, card = saved_card(shop, "pm_card_visa")
    outcome = charge_saved(shop, customer, None, "in_1:1")  # None: the default card
    assert outcome.ok, outcome
    payment = outcome.payment
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount_captured == 2_500
    assert payment.customer_id == customer and payment.card_last4 == "4242"
    assert payment.platform_fee + payment.gateway_fee + payment.net_amount == 2_500
    assert payment.metadata_ == {"invoice": "in_1"} and payment.description == "Monthly plan"
    with session_scope(readonly=True) as db:
        attempts = db.exec(
            select(PaymentAttempt.gateway, PaymentAttempt.outcome).where(
                PaymentAttempt.payment_id == payment.id
            )
        ).all()
    assert attempts == [("sandbox", "succeeded")]
    assert "payment.succeeded" in events_of(payment.id)
    api = shop.get(f"/api/payments/{payment.id}").json()["payment"]
    assert api["status"] == "succeeded" and api["customerEmail"] == "d_visa@example.com"
    assert_ledger_consistent(shop.merchant_id)

    # The same key again: the first payment, nothing charged twice.
    again = charge_saved(shop, customer, None, "in_1:1")
    assert again.payment.id == payment.id and again.ok
    assert count_payments(shop) == 1
    for other_request in ({"amount": 9_999}, {"card": card}):
        with pytest.raises(Conflict):
            charge_saved(shop, customer, other_request.pop("card", None), "in_1:1", **other_request)
    assert count_payments(shop) == 1


def count_payments(shop: Merchant) -> int:
    with session_scope(readonly=True) as db:
        return db.exec(select(func.count()).where(Payment.merchant_id == shop.merchant_id)).one()


def test_charge_customer_fail_card_declines_every_charge(shop: Merchant) -> None:
    customer, card = saved_card(shop, "pm_card_chargeCustomerFail")
    for attempt in (1, 2):
        outcome = charge_saved(shop, customer, card, f"in_2:{attempt}")
        assert outcome.error_code == "card_declined" and not outcome.ok
        assert outcome.payment.status == PaymentStatus.FAILED
        assert outcome.payment.failure_code == "card_declined"
        assert outcome.payment.net_amount == 0
    assert count_payments(shop) == 2
    assert_ledger_consistent(shop.merchant_id)


def test_authentication_required_card_waits_for_the_customer(shop: Merchant) -> None:
    customer, card = saved_card(shop, "4000002760003184")
    outcome = charge_saved(shop, customer, card, "in_3:1")
    assert outcome.error_code == "authentication_required" and not outcome.ok
    assert outcome.error_message
    assert outcome.payment.status == PaymentStatus.REQUIRES_ACTION
    assert outcome.payment.amount_captured == 0
    assert "payment.requires_action" in events_of(outcome.payment.id)
    with session_scope(readonly=True) as db:
        details = db.exec(
            select(AuditLog.details).where(
                AuditLog.object_id == outcome.payment.id,
                AuditLog.action == "payment.requires_action",
            )
        ).one()
    assert details["code"] == "authentication_required"
    replay = charge_saved(shop, customer, card, "in_3:1")
    assert replay.error_code == "authentication_required"
    assert replay.payment.id == outcome.payment.id
    assert_ledger_consistent(shop.merchant_id)


def test_saved_charges_refuse_what_cannot_be_charged(client: TestClient, shop: Merchant) -> None:
    customer, card = saved_card(shop, "pm_card_visa")
    other = new_merchant(client, "Other")
    with pytest.raises(NotFound):
        charge_saved(other, customer, card, "x:1")  # another merchant's customer
    lonely = create(shop, email="lonely@example.com")["id"]
    with pytest.raises(NotFound):
        charge_saved(shop, lonely, card, "x:2")  # another customer's card
    with pytest.raises(Exception, match="no default payment method"):
        charge_saved(shop, lonely, None, "x:3")
    shop.client.delete(f"/api/customers/{customer}/payment_methods/{card}", headers=shop.headers())
    with pytest.raises(NotFound):
        charge_saved(shop, customer, card, "x:4")  # detached
    assert count_payments(shop) == 0
