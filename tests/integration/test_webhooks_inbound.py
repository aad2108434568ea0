"""Inbound Stripe webhooks end to end: signed requests through POST /api/webhooks/stripe, stored,
processed by the worker's code, on SQLite and on PostgreSQL.

Huey runs in immediate mode here (`huey.immediate = True` on core.jobs.huey, whatever backend
it was created with): the task the endpoint enqueues runs at once, before the endpoint answers.
Retries and the sweep are driven by calling the service with an explicit `now`, so hours of
backoff pass in milliseconds. Until backend.api.app mounts the webhook router, the `app` fixture
mounts it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import (
    AuditLog,
    Dispute,
    DomainEvent,
    InboundWebhookEvent,
    Merchant,
    Order,
    Payment,
    Refund,
    utcnow,
)
from backend.services import context
from backend.services.context import Scope
from backend.services.payments import booking, orders, routing
from backend.services.webhooks.inbound import queue, receive, stripe_handlers
from tests.integration import webhook_signing as ws
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.support import ROOT

PATH = "/api/webhooks/stripe"
AMOUNT = 10_000


def with_webhooks(app: FastAPI) -> FastAPI:
    """Mount the webhook routes unless backend.api.app does it already."""
    from backend.api.routes import webhooks_stripe

    if not any(getattr(route, "path", None) == PATH for route in app.routes):
        app.include_router(webhooks_stripe.router)
    return app


@pytest.fixture
def app(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    return webhook_app(monkeypatch)


def webhook_app(monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The API with the platform's signing secrets set, jobs run at once, no stored events."""
    from backend.api import create_app
    from backend.core.jobs import huey
    from tests.conftest import _reset_caches

    # The new secret first, then the one being rotated out: both verify.
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", f"{ws.SECRET}, {ws.OLD_SECRET}")
    _reset_caches()
    monkeypatch.setattr(huey, "immediate", True)
    # The PostgreSQL database is shared by the session's tests, and inbound events belong to no
    # merchant: start each test with none, so the sweep sees only this test's events.
    with session_scope() as db:
        db.exec(delete(InboundWebhookEvent))
    return with_webhooks(create_app())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client)


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The worker is down: the endpoint's enqueued tasks are collected, not run."""
    from backend.tasks import inbound

    queued: list[str] = []
    monkeypatch.setattr(inbound, "process_events", queued.extend)
    return queued


def send(
    client: TestClient | httpx.Client,
    event: dict[str, Any],
    *,
    secret: str = ws.SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body, headers = ws.signed(event, secret, timestamp)
    return client.post(PATH, content=body, headers=headers)


def post(client: TestClient, type_: str, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Send a signed event; the stored row once the (immediate) worker is done with it."""
    event = ws.event(type_, obj, **kwargs)
    response = send(client, event)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "received": True,
        "duplicate": False,
        "eventId": event["id"],
    }
    return stored(event["id"])


def stored(event_id: str) -> dict[str, Any]:
    with session_scope() as db:
        row = db.exec(
            select(InboundWebhookEvent).where(InboundWebhookEvent.event_id == event_id)
        ).one()
        return row.model_dump()


def stored_events(type_: str) -> list[str]:
    """Stripe's ids of the stored events of one type, oldest first."""
    with session_scope() as db:
        query = select(InboundWebhookEvent.event_id).where(InboundWebhookEvent.event_type == type_)
        return list(db.exec(query.order_by(InboundWebhookEvent.received_at)).all())


def stripe_payment(
    shop: Shop, amount: int = AMOUNT, *, status: str = "requires_action"
) -> tuple[str, dict[str, Any]]:
    """A payment our API made through Stripe that awaits the customer (3-D Secure), and its
    PaymentIntent (metadata as our gateway sends it)."""
    pi = ws.payment_intent(amount, status=status)
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        order = orders.create_order(db, scope, amount=amount, currency="USD")
        db.flush()
        payment = Payment(
            id=new_id("pay"),
            merchant_id=shop.merchant_id,
            order_id=order.id,
            currency="USD",
            amount=amount,
            gateway="stripe",
            gateway_payment_id=pi["id"],
            status=status,
        )
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        booking.set_fees(
            payment, amount, booking.platform_fees(db, merchant.id), routing.DEFAULT_FEES["stripe"]
        )
        db.add(payment)
    pi["metadata"] = {"payment_id": payment.id, "order_id": order.id}
    return payment.id, pi


def succeeded(client: TestClient, shop: Shop, amount: int = AMOUNT) -> tuple[str, dict, dict]:
    """A captured Stripe payment: its id, PaymentIntent and Charge."""
    payment_id, pi = stripe_payment(shop, amount)
    ch = ws.charge(pi)
    pi = ws.with_(pi, status="succeeded", amount_received=amount, latest_charge=ch["id"])
    assert post(client, "payment_intent.succeeded", pi)["status"] == "processed"
    return payment_id, pi, ch


def state(payment_id: str) -> dict[str, Any]:
    """Everything the events of one payment can change, keyed by Stripe ids where they exist."""
    with session_scope() as db:
        p = db.get(Payment, payment_id)
        assert p is not None
        order = db.get(Order, p.order_id) if p.order_id else None
        refunds = db.exec(select(Refund).where(Refund.payment_id == payment_id)).all()
        found = db.exec(select(Dispute).where(Dispute.payment_id == payment_id)).all()
        return {
            "status": p.status,
            "captured": p.amount_captured,
            "refunded": p.amount_refunded,
            "fees": (p.platform_fee, p.gateway_fee, p.net_amount),
            "failure": p.failure_code,
            "order": order.status if order else None,
            "refunds": sorted(
                (r.gateway_refund_id, r.status, r.amount, r.platform_fee_refunded) for r in refunds
            ),
            "disputes": sorted((d.gateway_dispute_id, d.status, d.amount) for d in found),
        }


def kept_is_fees_plus_net(s: dict[str, Any]) -> bool:
    return s["captured"] - s["refunded"] == sum(s["fees"])


def outbox(payment_id: str) -> Counter[str]:
    with session_scope() as db:
        rows = db.exec(select(DomainEvent.type).where(DomainEvent.object_id == payment_id)).all()
        return Counter(rows)


def count(model: type, *where: Any) -> int:
    with session_scope() as db:
        return db.exec(select(func.count()).select_from(model).where(*where)).one()


# --- the eleven event types ----------------------------------------------------------------------


def test_payment_intent_created_is_logged_and_changes_nothing(client: TestClient, shop: Shop):
    payment_id, pi = stripe_payment(shop)
    before = state(payment_id)
    row = post(client, "payment_intent.created", pi)
    assert (row["status"], row["attempts"], row["error_message"]) == ("processed", 1, None)
    assert row["processed_at"] is not None and row["locked_until"] is None
    assert state(payment_id) == before


def test_payment_intent_succeeded_captures_with_fees_audit_and_outbox(
    client: TestClient, shop: Shop
):
    payment_id, pi = stripe_payment(shop)
    pi = ws.with_(pi, status="succeeded", amount_received=AMOUNT)
    row = post(client, "payment_intent.succeeded", pi)
    assert row["status"] == "processed"
    # Starter tier 3 % and Stripe's 2.9 % + 30 c on 100.00 USD.
    assert state(payment_id) == {
        "status": "succeeded",
        "captured": AMOUNT,
        "refunded": 0,
        "fees": (300, 320, 9_380),
        "failure": None,
        "order": "paid",
        "refunds": [],
        "disputes": [],
    }
    assert outbox(payment_id) == {"payment.succeeded": 1}
    with session_scope() as db:
        audit = db.exec(select(AuditLog).where(AuditLog.object_id == payment_id)).one()
        assert (audit.action, audit.actor_type, audit.actor_id) == (
            "payment.succeeded",
            "webhook",
            row["event_id"],
        )
        synced = db.get(Payment, payment_id).gateway_synced_at  # type: ignore[union-attr]
        assert (
            synced is not None and int(synced.timestamp()) == json.loads(row["payload"])["created"]
        )


@pytest.mark.parametrize(
    ("capture_method", "status", "captured"),
    [("automatic", "succeeded", AMOUNT), ("manual", "authorized", 0)],
)
def test_charge_succeeded_captures_or_authorizes(
    client: TestClient, shop: Shop, capture_method: str, status: str, captured: int
):
    payment_id, pi = stripe_payment(shop)
    pi["capture_method"] = capture_method
    assert post(client, "charge.succeeded", ws.charge(pi))["status"] == "processed"
    after = state(payment_id)
    assert (after["status"], after["captured"], after["fees"]) == (
        status,
        captured,
        (300, 320, 9_380),
    )


@pytest.mark.parametrize("type_", ["payment_intent.payment_failed", "charge.failed"])
def test_a_failed_payment_keeps_stripes_decline_code(client: TestClient, shop: Shop, type_: str):
    payment_id, pi = stripe_payment(shop)
    error = {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}
    if type_ == "charge.failed":
        obj = ws.charge(pi, failure=("card_declined", "insufficient_funds", "Declined."))
    else:
        obj = ws.with_(pi, status="requires_payment_method", last_payment_error=error)
    assert post(client, type_, obj)["status"] == "processed"
    after = state(payment_id)
    assert (after["status"], after["failure"], after["fees"]) == (
        "failed",
        "insufficient_funds",
        (0, 0, 0),
    )
    assert outbox(payment_id) == {"payment.failed": 1}


def test_payment_intent_canceled_voids(client: TestClient, shop: Shop):
    payment_id, pi = stripe_payment(shop)
    canceled = ws.with_(pi, status="canceled", canceled_at=int(time.time()))
    assert post(client, "payment_intent.canceled", canceled)["status"] == "processed"
    assert (state(payment_id)["status"], state(payment_id)["fees"]) == ("voided", (0, 0, 0))


def test_charge_refunded_books_each_stripe_refund_once(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    first = ws.refund(ch, 2_000)
    post(client, "charge.refunded", ws.refunded_charge(ch, [first]))
    second = ws.refund(ch, 3_000)
    post(client, "charge.refunded", ws.refunded_charge(ch, [first, second]))
    post(client, "refund.created", first)  # the same refund told once more
    after = state(payment_id)
    assert (after["status"], after["refunded"], after["order"]) == (
        "partially_refunded",
        5_000,
        "partially_refunded",
    )
    # The platform fee goes back pro rata (3 % of each refund), so fees + net stays exact.
    assert after["refunds"] == sorted(
        [(first["id"], "succeeded", 2_000, 60), (second["id"], "succeeded", 3_000, 90)]
    )
    assert kept_is_fees_plus_net(after)
    assert outbox(payment_id)["payment.refunded"] == 2
    # An operator replays the second charge.refunded: nothing is booked twice.
    replayed = queue.replay(stored_events("charge.refunded")[-1])
    assert queue.process(replayed.id) == "processed"
    assert state(payment_id) == after
    assert outbox(payment_id)["payment.refunded"] == 2


def test_refund_created_pending_then_updated_succeeded(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    pending = ws.refund(ch, AMOUNT, status="pending")
    post(client, "refund.created", pending)
    assert state(payment_id)["refunds"] == [(pending["id"], "pending", AMOUNT, 300)]
    assert state(payment_id)["status"] == "refunded"  # a pending refund is booked at once
    post(client, "refund.updated", ws.with_(pending, status="succeeded"))
    after = state(payment_id)
    assert (after["status"], after["refunded"], after["order"]) == ("refunded", AMOUNT, "refunded")
    assert after["refunds"] == [(pending["id"], "succeeded", AMOUNT, 300)]
    assert kept_is_fees_plus_net(after)


@pytest.mark.parametrize("amount", [AMOUNT, 4_000])
def test_a_failed_refund_reverses_its_booking(client: TestClient, shop: Shop, amount: int):
    payment_id, _, ch = succeeded(client, shop)
    before = state(payment_id)
    pending = ws.refund(ch, amount, status="pending")
    post(client, "refund.created", pending)
    failed = ws.with_(pending, status="failed", failure_reason="expired_or_canceled_card")
    post(client, "refund.updated", failed)
    after = state(payment_id)
    assert after["refunds"] == [(pending["id"], "failed", amount, 0)]
    assert after | {"refunds": []} == before | {"refunds": []}  # money, fees, statuses restored
    # And the payment can be refunded again, with fees still consistent.
    again = ws.refund(ch, 1_000)
    post(client, "refund.created", again)
    assert state(payment_id)["refunded"] == 1_000
    assert kept_is_fees_plus_net(state(payment_id))


def test_a_refund_made_through_our_api_is_confirmed_not_added(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    stripe_refund = ws.refund(ch, 2_500, status="pending")
    with session_scope() as db:  # what operations.refund stores when Stripe answers "pending"
        payment = db.get(Payment, payment_id)
        assert payment is not None
        record = Refund(
            id=new_id("re"),
            merchant_id=shop.merchant_id,
            payment_id=payment_id,
            amount=2_500,
            currency="USD",
            gateway_refund_id=stripe_refund["id"],
        )
        db.add(record)
        db.flush()
        booking.book_refund(db, payment, record, context.SYSTEM, pending=True)
    post(client, "refund.created", stripe_refund)
    post(client, "charge.refunded", ws.refunded_charge(ch, [stripe_refund]))
    post(client, "refund.updated", ws.with_(stripe_refund, status="succeeded"))
    after = state(payment_id)
    assert after["refunds"] == [(stripe_refund["id"], "succeeded", 2_500, 75)]
    assert after["refunded"] == 2_500


@pytest.mark.parametrize(
    ("outcome", "payment_status"), [("won", "succeeded"), ("lost", "disputed")]
)
def test_dispute_created_then_closed(
    client: TestClient, shop: Shop, outcome: str, payment_status: str
):
    payment_id, _, ch = succeeded(client, shop)
    opened = ws.dispute(ch, AMOUNT)
    post(client, "charge.dispute.created", opened)
    assert state(payment_id)["status"] == "disputed"
    assert state(payment_id)["disputes"] == [(opened["id"], "needs_response", AMOUNT)]
    post(client, "charge.dispute.created", opened)  # delivered again under another event id
    post(client, "charge.dispute.closed", ws.with_(opened, status=outcome))
    after = state(payment_id)
    assert (after["status"], after["disputes"]) == (
        payment_status,
        [(opened["id"], outcome, AMOUNT)],
    )
    assert outbox(payment_id)["dispute.created"] == 1


def test_dispute_closed_first_opens_and_closes_it(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    opened = ws.dispute(ch, AMOUNT)
    post(client, "charge.dispute.closed", ws.with_(opened, status="lost"))
    post(client, "charge.dispute.created", opened)
    assert state(payment_id)["disputes"] == [(opened["id"], "lost", AMOUNT)]
    assert state(payment_id)["status"] == "disputed"


def test_funds_withdrawn_opens_the_dispute_once_whatever_comes_first(
    client: TestClient, shop: Shop
):
    payment_id, _, ch = succeeded(client, shop)
    opened = ws.dispute(ch, AMOUNT)
    post(client, "charge.dispute.funds_withdrawn", opened)
    post(client, "charge.dispute.created", opened)
    post(client, "charge.dispute.funds_withdrawn", opened)  # delivered again
    assert state(payment_id)["disputes"] == [(opened["id"], "needs_response", AMOUNT)]
    assert outbox(payment_id)["dispute.created"] == 1


def test_dispute_updated_moves_it_forward_never_back(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    now = int(time.time())
    opened = ws.dispute(ch, AMOUNT)
    post(client, "charge.dispute.created", opened, created=now - 10)
    review = ws.with_(opened, status="under_review", evidence={"receipt": "file_1"})
    post(client, "charge.dispute.updated", review, created=now)
    post(client, "charge.dispute.updated", review, created=now)  # a repeat books nothing
    assert state(payment_id)["disputes"] == [(opened["id"], "under_review", AMOUNT)]
    stale = post(client, "charge.dispute.updated", opened, created=now - 5)
    assert stale["status"] == "ignored" and stale["error_message"].startswith("stale")
    post(client, "charge.dispute.updated", ws.with_(opened, status="lost"), created=now + 1)
    # A later snapshot that says needs_response cannot reopen a lost dispute.
    back = post(client, "charge.dispute.updated", opened, created=now + 2)
    assert back["status"] == "processed"
    assert state(payment_id)["disputes"] == [(opened["id"], "lost", AMOUNT)]
    with session_scope() as db:
        submitted = db.exec(
            select(AuditLog).where(
                AuditLog.action == "dispute.evidence_submitted",
                AuditLog.merchant_id == shop.merchant_id,
            )
        ).all()
    assert [a.details for a in submitted if a.object_id != payment_id] == [{"files": 1}]


def test_funds_reinstated_closes_the_dispute_as_won_once(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    opened = ws.dispute(ch, AMOUNT)
    post(client, "charge.dispute.created", opened)
    post(client, "charge.dispute.funds_reinstated", ws.with_(opened, status="under_review"))
    post(client, "charge.dispute.closed", ws.with_(opened, status="won"))
    post(client, "charge.dispute.funds_reinstated", ws.with_(opened, status="won"))
    after = state(payment_id)
    assert (after["status"], after["disputes"]) == ("succeeded", [(opened["id"], "won", AMOUNT)])
    with session_scope() as db:
        closed = db.exec(
            select(func.count())
            .select_from(DomainEvent)
            .where(DomainEvent.type == "dispute.closed")
            .where(DomainEvent.merchant_id == shop.merchant_id)
        ).one()
    assert closed == 1


# --- not ours, stale, backwards ------------------------------------------------------------------


def test_other_event_types_are_stored_and_ignored(client: TestClient):
    row = post(client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert (row["status"], row["error_message"]) == (
        "ignored",
        "customer.created events are not used",
    )
    assert json.loads(row["payload"])["data"]["object"]["id"] == "cus_1"


def test_a_payment_intent_that_is_not_ours_is_ignored_with_its_reason(client: TestClient):
    pi = ws.payment_intent(status="succeeded")
    row = post(client, "payment_intent.succeeded", pi)
    assert row["status"] == "ignored"
    assert f"no payment for PaymentIntent {pi['id']}" in row["error_message"]


def test_a_test_mode_event_never_touches_a_live_payment(client: TestClient, shop: Shop):
    payment_id, pi = stripe_payment(shop)
    with session_scope() as db:  # to be found through its metadata (adopting the id)...
        db.get(Payment, payment_id).gateway_payment_id = None  # type: ignore[union-attr]
    row = post(client, "payment_intent.succeeded", ws.with_(pi, status="succeeded"), livemode=True)
    assert row["status"] == "ignored" and "a live event" in row["error_message"]
    assert state(payment_id)["status"] == "requires_action"
    with session_scope() as db:  # ...and an ignored event keeps nothing, not even that
        assert db.get(Payment, payment_id).gateway_payment_id is None  # type: ignore[union-attr]


def test_a_late_or_older_event_never_moves_a_payment_backwards(client: TestClient, shop: Shop):
    payment_id, pi = stripe_payment(shop)
    now = int(time.time())
    post(client, "payment_intent.succeeded", ws.with_(pi, status="succeeded"), created=now)
    before = state(payment_id)
    failed = ws.with_(pi, status="requires_payment_method", last_payment_error={"code": "x"})
    older = post(client, "payment_intent.payment_failed", failed, created=now - 5)
    assert older["status"] == "ignored" and older["error_message"].startswith("stale")
    newer = post(client, "payment_intent.canceled", ws.with_(pi, status="canceled"), created=now)
    assert newer["status"] == "ignored" and "cannot undo" in newer["error_message"]
    post(client, "payment_intent.created", pi, created=now - 60)
    assert state(payment_id) == before


def test_metadata_finds_a_payment_whose_creation_timed_out(client: TestClient, shop: Shop):
    """Our API counted the charge as failed (Stripe's answer was lost) and never learnt the
    PaymentIntent's id; Stripe then reports success: the metadata names our payment."""
    payment_id, pi = stripe_payment(shop, status="requires_action")
    with session_scope() as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        booking.fail(db, payment, "gateway_outcome_unknown", "lost", context.SYSTEM)
        payment.gateway_payment_id = None
    post(client, "payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    after = state(payment_id)
    assert (after["status"], after["captured"], after["failure"], after["fees"]) == (
        "succeeded",
        AMOUNT,
        None,
        (300, 320, 9_380),
    )
    with session_scope() as db:
        assert db.get(Payment, payment_id).gateway_payment_id == pi["id"]  # type: ignore[union-attr]


def test_a_refund_before_its_payments_success_waits_for_it(client: TestClient, shop: Shop):
    payment_id, pi = stripe_payment(shop)
    ch = ws.charge(pi)
    early = post(client, "refund.created", ws.refund(ch, 1_000))
    assert (
        early["status"] == "failed"
        and "waiting for the event of its capture" in (early["error_message"])
    )
    post(client, "payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    drain()
    assert stored(early["event_id"])["status"] == "processed"
    assert state(payment_id)["refunded"] == 1_000


# --- signatures and bodies -----------------------------------------------------------------------


def test_a_genuine_event_is_stored_first_and_acknowledged(client: TestClient, paused: list[str]):
    event = ws.event("payment_intent.created", ws.payment_intent())
    response = send(client, event)
    assert response.status_code == 200
    row = stored(event["id"])
    assert (row["provider"], row["event_type"], row["status"], row["livemode"]) == (
        "stripe",
        "payment_intent.created",
        "pending",
        False,
    )
    assert row["payload"] == ws.dumps(event)  # byte for byte what Stripe signed
    assert paused == [row["id"]]  # enqueued right after the INSERT


def test_a_repeated_event_answers_200_and_changes_nothing(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    event = ws.event("charge.refunded", ws.refunded_charge(ch, [ws.refund(ch, 1_000)]))
    answers = [send(client, event).json()["duplicate"] for _ in range(3)]
    assert answers == [False, True, True]
    assert count(InboundWebhookEvent, InboundWebhookEvent.event_id == event["id"]) == 1
    assert state(payment_id)["refunded"] == 1_000


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda body, headers: (body, {}), "signature_missing"),
        (lambda body, headers: (body, {"Stripe-Signature": "nonsense"}), "signature_invalid"),
        (lambda body, headers: (body.replace(b"10000", b"99999"), headers), "signature_invalid"),
        (lambda body, headers: (body + b" ", headers), "signature_invalid"),
    ],
    ids=["missing", "garbled-header", "tampered-body", "one-byte-added"],
)
def test_a_bad_signature_is_a_400_and_stores_nothing(client: TestClient, mangle, code: str):  # type: ignore[no-untyped-def]
    body, headers = ws.signed(ws.event("payment_intent.succeeded", ws.payment_intent()))
    body, headers = mangle(body, headers)
    response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert count(InboundWebhookEvent) == 0


def test_a_secret_we_do_not_hold_is_refused(client: TestClient):
    response = send(client, ws.event("payment_intent.created", {}), secret="whsec_other")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"


def test_stale_timestamps_are_refused_fresh_ones_accepted(client: TestClient):
    now = int(time.time())
    stale = send(client, ws.event("payment_intent.created", {}), timestamp=now - 301)
    assert stale.status_code == 400
    assert stale.json()["error"] == {
        "code": "timestamp_out_of_tolerance",
        "message": "The Stripe-Signature timestamp is more than 300 seconds old",
        "param": None,
    }
    assert (
        send(client, ws.event("payment_intent.created", {}), timestamp=now - 290).status_code == 200
    )


def test_secret_rotation_old_secret_and_several_signatures(client: TestClient):
    assert send(client, ws.event("x.y", {}), secret=ws.OLD_SECRET).status_code == 200
    # During a rotation Stripe signs with both secrets: t=...,v1=<new>,v1=<old>.
    payload = ws.dumps(ws.event("x.y", {}))
    now = int(time.time())
    new = ws.signature(payload, ws.SECRET, now).split(",")[1]
    old = ws.signature(payload, ws.OLD_SECRET, now).split(",")[1]
    bogus = "v1=" + "0" * 64
    for header in (f"t={now},{new},{old}", f"t={now},{bogus},{old}"):
        response = client.post(PATH, content=payload, headers={"Stripe-Signature": header})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("this is not json", "invalid_json"),
        ("{broken", "invalid_json"),
        ("[1, 2, 3]", "invalid_event"),
        ('{"id": "evt_1", "type": "x"}', "invalid_event"),
        ('{"id": 1, "type": "x", "created": 1, "data": {"object": {}}}', "invalid_event"),
    ],
)
def test_a_signed_body_that_is_not_a_stripe_event_is_a_400(
    client: TestClient, payload: str, code: str
):
    headers = {"Stripe-Signature": ws.signature(payload)}
    response = client.post(PATH, content=payload, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert count(InboundWebhookEvent) == 0


def test_a_body_over_one_megabyte_is_a_413(client: TestClient):
    event = ws.event("payment_intent.created", {"padding": "x" * 1_048_576})
    body, headers = ws.signed(event)
    response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_without_a_signing_secret_every_request_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    from tests.conftest import _reset_caches

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "")
    _reset_caches()
    response = send(client, ws.event("payment_intent.created", {}))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhooks_not_configured"
    assert count(InboundWebhookEvent) == 0
    health = client.get("/api/webhooks/health").json()
    assert health["webhooks"] == {"stripe": "not_configured", "paypal": "per_processor"}


# --- group commit ---------------------------------------------------------------------------------


def test_a_burst_of_requests_shares_one_commit(client: TestClient, monkeypatch: pytest.MonkeyPatch):
    """While one commit runs, the requests that arrive wait for the next, which takes them all."""
    import threading

    batches: list[int] = []
    first_commit_started, release = threading.Event(), threading.Event()
    store_many = receive.store_many

    def slow_store_many(events: list[receive.VerifiedEvent]) -> list[str | None]:
        batches.append(len(events))
        if len(batches) == 1:
            first_commit_started.set()
            release.wait(10)
        return store_many(events)

    monkeypatch.setattr(receive, "store_many", slow_store_many)
    events = [ws.event("customer.created", {"id": f"cus_{i}"}) for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        first = pool.submit(send, client, events[0])
        assert first_commit_started.wait(10)
        rest = [pool.submit(send, client, event) for event in events[1:]]
        deadline = time.monotonic() + 10
        while _queued() < 19 and time.monotonic() < deadline:  # all 19 are waiting
            time.sleep(0.01)
        release.set()
        answers = [first.result().status_code] + [f.result().status_code for f in rest]
    assert answers == [200] * 20
    assert batches == [1, 19]
    assert count(InboundWebhookEvent) == 20


def _queued() -> int:
    from backend.api.routes import webhooks_stripe

    return webhooks_stripe._writer.queued()


def test_when_the_database_refuses_every_waiting_request_gets_a_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    from sqlalchemy.exc import OperationalError

    def down(events: Any) -> list[str | None]:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    store_many = receive.store_many
    monkeypatch.setattr(receive, "store_many", down)
    response = send(client, ws.event("customer.created", {}))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    monkeypatch.setattr(receive, "store_many", store_many)  # back: the writer carries on
    assert send(client, ws.event("customer.created", {})).status_code == 200


# --- health --------------------------------------------------------------------------------------


def test_health_reports_backlog_age_and_failures(
    client: TestClient, paused: list[str], monkeypatch: pytest.MonkeyPatch
):
    assert client.get("/api/webhooks/health").json() == {
        "success": True,
        "status": "healthy",
        "webhooks": {"stripe": "active", "paypal": "per_processor"},
        "backlog": 0,
        "oldestUnprocessedSeconds": None,
        "failuresLastHour": 0,
        "degradedReasons": [],
    }
    for _ in range(3):
        send(client, ws.event("payment_intent.created", {}))
    failing = stripe_handlers.HANDLERS["payment_intent.created"]
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.created", _boom)
    queue.process(paused[0])
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.created", failing)
    health = client.get("/api/webhooks/health").json()
    assert (health["status"], health["backlog"], health["failuresLastHour"]) == ("healthy", 3, 1)
    assert 0 <= health["oldestUnprocessedSeconds"] < 60

    monkeypatch.setattr(queue, "DEGRADED_BACKLOG", 2)
    monkeypatch.setattr(queue, "DEGRADED_FAILURES_LAST_HOUR", 0)
    health = client.get("/api/webhooks/health").json()
    assert health["status"] == "degraded"
    assert health["degradedReasons"] == [
        "backlog of 3 events (over 2)",
        "1 failures in the last hour (over 0)",
    ]
    later = queue.health(now=utcnow() + timedelta(minutes=10))
    assert later.oldest_unprocessed_seconds is not None and later.oldest_unprocessed_seconds >= 600
    assert any("oldest unprocessed event" in reason for reason in later.reasons)


# --- retries, dead letters, replay ---------------------------------------------------------------


def _boom(event: Any) -> str:
    raise RuntimeError("boom")


def drain(rounds: int = 12) -> None:
    """Run the sweep again and again, each time a day later, until nothing is due."""
    for day in range(1, rounds + 1):
        later = utcnow() + timedelta(days=day)
        due = queue.dispatch_due(now=later)
        if not due:
            return
        for event_pk in due:
            queue.process(event_pk, now=later)
    raise AssertionError("events are still due after every round")


def test_retry_schedule_then_dead_letter_then_replay(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
):
    payment_id, pi = stripe_payment(shop)
    handler = stripe_handlers.HANDLERS["payment_intent.succeeded"]
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.succeeded", _boom)
    before = utcnow()
    row = post(client, "payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    # The first failure happened while the post was being handled: 15 s after some moment then.
    first_wait = timedelta(seconds=15)
    assert before + first_wait <= row["next_attempt_at"] <= utcnow() + first_wait
    failed_at = row["next_attempt_at"] - first_wait
    waits = []
    while row["status"] == "failed":
        assert row["error_message"] == "RuntimeError: boom"
        assert row["locked_until"] is None
        waits.append(round((row["next_attempt_at"] - failed_at).total_seconds()))
        # Not a moment before its time...
        assert queue.dispatch_due(now=row["next_attempt_at"] - timedelta(seconds=1)) == []
        # ...then once, by the sweep.
        failed_at = row["next_attempt_at"]
        assert queue.dispatch_due(now=failed_at) == [row["id"]]
        assert queue.dispatch_due(now=failed_at) == []
        queue.process(row["id"], now=failed_at)
        row = stored(row["event_id"])
    assert waits == [15, 30, 60, 120, 240, 480, 960, 1920, 3600]
    assert (row["status"], row["attempts"], row["error_message"]) == (
        "dead",
        10,
        "RuntimeError: boom",
    )
    assert row["next_attempt_at"] is None and row["processed_at"] is not None
    assert queue.dispatch_due(now=utcnow() + timedelta(days=30)) == []
    assert state(payment_id)["status"] == "requires_action"

    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.succeeded", handler)  # fixed
    replayed = queue.replay(row["event_id"])
    assert (replayed.status, replayed.attempts, replayed.error_message) == ("pending", 0, None)
    assert queue.process(replayed.id) == "processed"
    assert state(payment_id)["status"] == "succeeded"
    assert queue.process(replayed.id) is None  # done: nothing to claim


def test_replay_failed_requeues_failed_and_dead_events_since_a_time(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
):
    ok = post(client, "payment_intent.created", ws.payment_intent())
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.created", _boom)
    old = post(client, "payment_intent.created", ws.payment_intent())
    with session_scope() as db:  # dead-lettered last week
        row = db.get(InboundWebhookEvent, old["id"])
        assert row is not None
        row.status, row.received_at = "dead", utcnow() - timedelta(days=7)
    cutoff = utcnow()
    recent = [post(client, "payment_intent.created", ws.payment_intent()) for _ in range(2)]
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.created", lambda ev: "fixed")

    assert sorted(queue.replay_failed(since=cutoff)) == sorted(r["id"] for r in recent)
    for r in recent:
        assert queue.process(r["id"]) == "processed"
    assert stored(old["event_id"])["status"] == "dead"
    assert queue.replay_failed() == [old["id"]]
    assert stored(ok["event_id"])["status"] == "ignored"  # untouched: it had not failed


def test_replay_refuses_an_unknown_or_busy_event(client: TestClient):
    from backend.core.errors import Conflict, NotFound

    with pytest.raises(NotFound):
        queue.replay("evt_nope")
    event_pk = store_only("payment_intent.created", {})
    assert queue.claim(event_pk) is not None
    with pytest.raises(Conflict, match="being processed"):
        queue.replay(event_pk)


# --- leases: one worker at a time, killed workers ------------------------------------------------


def test_a_lease_is_exclusive_until_it_expires_and_fences_the_old_holder(shop: Shop):
    payment_id, pi = stripe_payment(shop)
    event_pk = store_only("payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    first = queue.claim(event_pk)
    assert first is not None
    assert queue.claim(event_pk) is None
    assert queue.claim(event_pk, now=first - timedelta(seconds=1)) is None
    second = queue.claim(event_pk, now=first + timedelta(microseconds=1))
    assert second is not None and second > first
    with session_scope() as db:  # the first holder, back from a long pause, may not finish
        assert queue._leased(db, event_pk, first) is None
        assert queue._leased(db, event_pk, second) is not None
    assert queue.process(event_pk, now=second + timedelta(seconds=1)) == "processed"
    assert stored_by_pk(event_pk)["attempts"] == 3
    assert outbox(payment_id) == {"payment.succeeded": 1}


def store_only(type_: str, obj: dict[str, Any]) -> str:
    """Store an event as the endpoint does, with no worker running: its row id."""
    event = ws.event(type_, obj)
    verified = receive.VerifiedEvent(event["id"], type_, False, ws.dumps(event))
    event_pk = receive.store(verified)
    assert event_pk is not None
    return event_pk


def stored_by_pk(event_pk: str) -> dict[str, Any]:
    with session_scope() as db:
        row = db.get(InboundWebhookEvent, event_pk)
        assert row is not None
        return row.model_dump()


def test_fifty_parallel_workers_on_one_event_apply_it_once(client: TestClient, shop: Shop):
    payment_id, _, ch = succeeded(client, shop)
    refunded = ws.refunded_charge(ch, [ws.refund(ch, 1_500)])
    event_pk = store_only("charge.refunded", refunded)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = Counter(pool.map(lambda _: queue.process(event_pk), range(50)))
    assert results == {"processed": 1, None: 49}
    assert state(payment_id)["refunded"] == 1_500
    assert outbox(payment_id)["payment.refunded"] == 1


KILLED_WORKER = """
import sys, time
from backend.services.webhooks.inbound import queue, stripe_handlers

apply = stripe_handlers.HANDLERS["payment_intent.succeeded"]

def apply_then_hang(event):
    note = apply(event)          # the capture is written, not committed
    print("APPLIED", flush=True)
    time.sleep(120)              # killed here
    return note

stripe_handlers.HANDLERS["payment_intent.succeeded"] = apply_then_hang
queue.process(sys.argv[1])
"""


def test_a_worker_killed_mid_processing_leaves_the_event_to_the_sweep(
    shop: Shop, configured_app: str
):
    payment_id, pi = stripe_payment(shop)
    event_pk = store_only("payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    env = {**os.environ, "DATABASE_URL": configured_app, "JOBS_BACKEND": "memory"}
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, event_pk],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "APPLIED"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    row = stored_by_pk(event_pk)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["locked_until"] > utcnow()  # still leased to the dead worker
    assert state(payment_id)["status"] == "requires_action"  # its work died with it
    assert queue.dispatch_due() == []  # the lease protects it until it expires

    after_lease = row["locked_until"] + timedelta(seconds=1)
    assert queue.dispatch_due(now=after_lease) == [event_pk]
    assert queue.process(event_pk, now=after_lease) == "processed"
    assert state(payment_id)["status"] == "succeeded"
    assert outbox(payment_id) == {"payment.succeeded": 1}
    assert count(AuditLog, AuditLog.object_id == payment_id) == 1


def test_the_huey_tasks_sweep_and_process(shop: Shop, monkeypatch: pytest.MonkeyPatch):
    """The wiring, with the real clock: sweep -> dispatch_due -> process_events -> process; and
    once a minute, six sweeps scheduled 10 s apart."""
    from backend.tasks import inbound, outbound

    dispatches: list[None] = []
    monkeypatch.setattr(outbound, "enqueue_dispatch", lambda: dispatches.append(None))
    payment_id, pi = stripe_payment(shop)
    event_pk = store_only("payment_intent.succeeded", ws.with_(pi, status="succeeded"))
    inbound.sweep()
    assert state(payment_id)["status"] == "requires_action"  # its own task may still come
    with session_scope() as db:  # ...but it was lost a minute ago
        row = db.get(InboundWebhookEvent, event_pk)
        assert row is not None
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
    inbound.sweep()  # Huey is immediate here: the sweep and the task it enqueues run now
    assert state(payment_id)["status"] == "succeeded"
    assert stored_by_pk(event_pk)["status"] == "processed"
    assert len(dispatches) == 1  # the outbox events it wrote leave now, not at the next tick

    delays: list[int] = []
    monkeypatch.setattr(inbound.sweep, "schedule", lambda delay: delays.append(delay))
    inbound.schedule_sweeps.call_local()
    assert delays == [0, 10, 20, 30, 40, 50]


# --- one payment's life in any order -------------------------------------------------------------


def life(pi: dict[str, Any], dispute_outcome: str) -> list[tuple[str, dict[str, Any], int]]:
    """The events of a payment whose first card is declined and second one succeeds; refunded
    in part (pending, then confirmed), disputed, the dispute closed, refunded again."""
    t = int(time.time()) - 3_600
    declined = ws.charge(pi, failure=("card_declined", "insufficient_funds", "Declined."))
    error = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "charge": declined["id"],
    }
    ch = ws.charge(pi)
    won = ws.with_(pi, status="succeeded", amount_received=AMOUNT, latest_charge=ch["id"])
    re_a = ws.refund(ch, 2_000, status="pending")
    re_a_done = ws.with_(re_a, status="succeeded")
    dp = ws.dispute(ch, AMOUNT - 2_000)
    events = [
        ("payment_intent.created", pi, t),
        ("charge.failed", declined, t + 10),
        ("payment_intent.payment_failed", ws.with_(pi, last_payment_error=error), t + 10),
        ("charge.succeeded", ch, t + 20),
        ("payment_intent.succeeded", won, t + 20),
        ("refund.created", re_a, t + 30),
        ("charge.refunded", ws.refunded_charge(ch, [re_a]), t + 30),
        ("refund.updated", re_a_done, t + 40),
        ("charge.dispute.created", dp, t + 50),
        ("charge.dispute.closed", ws.with_(dp, status=dispute_outcome), t + 60),
    ]
    if dispute_outcome == "won":  # the merchant then refunds 30.00 more
        re_b = ws.refund(ch, 3_000)
        events.append(("charge.refunded", ws.refunded_charge(ch, [re_a_done, re_b]), t + 70))
    return events


def expected_end(events: list[tuple[str, dict[str, Any], int]]) -> dict[str, Any]:
    re_a, dp = events[5][1]["id"], events[8][1]
    if len(events) == 11:
        re_b = events[-1][1]["refunds"]["data"][1]["id"]
        return {
            "status": "partially_refunded",
            "captured": AMOUNT,
            "refunded": 5_000,
            "fees": (150, 320, 4_530),
            "failure": None,
            "order": "partially_refunded",
            "refunds": sorted([(re_a, "succeeded", 2_000, 60), (re_b, "succeeded", 3_000, 90)]),
            "disputes": [(dp["id"], "won", 8_000)],
        }
    return {
        "status": "disputed",
        "captured": AMOUNT,
        "refunded": 2_000,
        "fees": (240, 320, 7_440),
        "failure": None,
        "order": "partially_refunded",
        "refunds": [(re_a, "succeeded", 2_000, 60)],
        "disputes": [(dp["id"], "lost", 8_000)],
    }


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_payments_life_in_order_ends_as_expected(client: TestClient, shop: Shop, outcome: str):
    payment_id, pi = stripe_payment(shop)
    events = life(pi, outcome)
    for type_, obj, created in events:
        assert post(client, type_, obj, created=created)["status"] == "processed", type_
    end = state(payment_id)
    assert end == expected_end(events)
    assert kept_is_fees_plus_net(end)


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_payments_life_shuffled_always_ends_the_same(
    client: TestClient, shop: Shop, outcome: str
):
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(order=st.permutations(range(11 if outcome == "won" else 10)), twice=st.booleans())
    def check(order: list[int], twice: bool) -> None:
        payment_id, pi = stripe_payment(shop)
        events = life(pi, outcome)
        envelopes = [ws.event(t, obj, created=c) for t, obj, c in events]
        for i in order:
            assert send(client, envelopes[i]).status_code == 200
            if twice:  # and each delivered twice
                assert send(client, envelopes[i]).json()["duplicate"] is True
        drain()
        end = state(payment_id)
        assert end == expected_end(events), order
        assert kept_is_fees_plus_net(end)
        statuses = Counter(stored(e["id"])["status"] for e in envelopes)
        assert statuses["failed"] == statuses["dead"] == statuses["pending"] == 0, statuses

    check()


# --- 100 concurrent deliveries of one event over real HTTP ---------------------------------------


def test_one_event_sent_100_times_at_once_has_one_effect(
    app: FastAPI, client: TestClient, shop: Shop
):
    from tests.integration.live_server import serve

    payment_id, _, ch = succeeded(client, shop)
    event = ws.event("charge.refunded", ws.refunded_charge(ch, [ws.refund(ch, 2_500)]))
    body, headers = ws.signed(event)
    with serve(app) as base:

        def deliver(_: int) -> tuple[int, bool]:
            with httpx.Client(base_url=base, timeout=60) as http:
                response = http.post(PATH, content=body, headers=headers)
                return response.status_code, response.json().get("duplicate")

        with ThreadPoolExecutor(max_workers=100) as pool:
            answers = Counter(pool.map(deliver, range(100)))
    assert answers == {(200, True): 99, (200, False): 1}
    assert count(InboundWebhookEvent, InboundWebhookEvent.event_id == event["id"]) == 1
    assert stored(event["id"])["status"] == "processed"
    assert state(payment_id)["refunded"] == 2_500
    assert len(state(payment_id)["refunds"]) == 1
    assert outbox(payment_id)["payment.refunded"] == 1


# --- the real Stripe SDK and the fake Stripe API -------------------------------------------------


def test_events_recorded_by_the_fake_stripe_api_drive_our_payment(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
):
    """A 3-D Secure payment made through our API and the Stripe SDK with the merchant's own
    key, completed by the customer; every event the fake Stripe recorded is delivered to that
    processor's endpoint, in order, then again in reverse."""
    from backend.core.crypto import encrypt_json
    from backend.models import GatewayConfig
    from tests.conftest import _reset_caches
    from tests.fakes.stripe_api import FakeStripe

    with FakeStripe(api_key="sk_test_fake") as fake:
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        _reset_caches()
        with TestClient(app) as client:
            shop = new_merchant(client)
            config_id = new_id("gwc")
            credentials = {"secret_key": "sk_test_fake", "webhook_secrets": [ws.OLD_SECRET]}
            with session_scope() as db:
                db.add(
                    GatewayConfig(
                        id=config_id,
                        merchant_id=shop.merchant_id,
                        gateway="stripe",
                        credentials_encrypted=encrypt_json(credentials),
                    )
                )

            def deliver(event: dict[str, Any]) -> httpx.Response:
                body, headers = ws.signed(event, ws.OLD_SECRET)
                return client.post(f"{PATH}/{config_id}", content=body, headers=headers)

            response = shop.charge("pm_card_threeDSecure2Required", amount=AMOUNT)
            payment = response.json()["payment"]
            assert payment["status"] == "requires_action", response.text
            fake.complete_authentication(payment["gatewayPaymentId"])
            fake.next_refund_status = "pending"
            # Not refundable yet on our side (requires_action): deliver the events first.
            for event in fake.events:
                assert deliver(event).status_code == 200
            assert state(payment["id"])["status"] == "succeeded"
            refund = shop.post(f"/api/payments/{payment['id']}/refund", {"amountCents": 4_000})
            assert refund.status_code == 200, refund.text
            (stripe_refund,) = fake.refunds.values()
            fake.refunds[stripe_refund["id"]]["status"] = "succeeded"
            fake._emit("refund.updated", fake.refunds[stripe_refund["id"]])
            for event in reversed(fake.events):
                deliver(event)
            drain()
            types = Counter(e["type"] for e in fake.events)
            assert types["refund.created"] == types["refund.updated"] == 1
    end = state(payment["id"])
    assert (end["status"], end["captured"], end["refunded"]) == (
        "partially_refunded",
        AMOUNT,
        4_000,
    )
    assert end["refunds"] == [(stripe_refund["id"], "succeeded", 4_000, 120)]
    ignored = count(InboundWebhookEvent, InboundWebhookEvent.status == "ignored")
    assert ignored == 1  # payment_intent.requires_action: a type we do not use


# --- the operators' CLI --------------------------------------------------------------------------


def test_cli_replays_one_event_and_all_failed_ones(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch, configured_app: str
):
    monkeypatch.setitem(stripe_handlers.HANDLERS, "payment_intent.created", _boom)
    rows = [post(client, "payment_intent.created", stripe_payment(shop)[1]) for _ in range(3)]
    assert {r["status"] for r in rows} == {"failed"}
    env = {**os.environ, "DATABASE_URL": configured_app, "JOBS_BACKEND": "memory"}

    def cli(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "backend", "webhooks", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    one = cli("replay", rows[0]["event_id"])
    assert (one["event"], one["status"]) == (rows[0]["event_id"], "processed")
    since = (datetime.now().astimezone() - timedelta(hours=1)).isoformat()
    many = cli("replay-failed", "--since", since)
    assert many == {"replayed": 2, "statuses": {"processed": 2}}
    assert {stored(r["event_id"])["status"] for r in rows} == {"processed"}
