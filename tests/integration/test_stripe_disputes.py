"""Answering a dispute the processor holds, end to end: our services submit or accept it through
the real Stripe SDK against the local FakeStripe, and Stripe's events that follow (delivered to
POST /api/webhooks/stripe) book nothing a second time. The sandbox decides at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import Conflict
from backend.models import AuditLog, Dispute, DisputeResponse, PaymentAttempt
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.payments import dispute_evidence, routing
from backend.services.payments.dispute_evidence import Upload
from tests.fakes.stripe_api import FakeStripe
from tests.integration import webhook_signing as ws
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.integration.test_webhooks_inbound import AMOUNT, outbox, send, state, webhook_app

KEY = "sk_test_fake_disputes"
PDF = b"%PDF-1.7\n a signed delivery note"
MEMBER = Actor(ActorType.SYSTEM)
STORY = "The parcel was delivered and signed for by the customer."


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def client(
    configured_app: str, monkeypatch: pytest.MonkeyPatch, fake: FakeStripe, tmp_path: Path
) -> Iterator[TestClient]:
    """The API on the platform's Stripe account, which is the fake."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fake.url)
    monkeypatch.setenv("UPLOADS_DIR", str(tmp_path / "uploads"))
    with TestClient(webhook_app(monkeypatch)) as client:
        yield client


class Delivery:
    """Stripe's events, each delivered once to our endpoint in the order the fake made them."""

    def __init__(self, client: TestClient, fake: FakeStripe):
        self.client, self.fake, self.sent = client, fake, 0

    def __call__(self) -> None:
        for event in self.fake.events[self.sent :]:
            assert send(self.client, event).status_code == 200
        self.sent = len(self.fake.events)

    def again(self) -> None:
        """Every event once more, under new ids (as Stripe may send one thing twice)."""
        for event in self.fake.events:
            assert send(self.client, {**event, "id": ws.new_id("evt")}).status_code == 200


@pytest.fixture
def deliver(client: TestClient, fake: FakeStripe) -> Delivery:
    return Delivery(client, fake)


def stripe_dispute(client: TestClient, deliver: Delivery) -> tuple[Shop, str, Dispute]:
    """A Stripe payment the bank disputed, known to us through Stripe's events, with a file."""
    shop = new_merchant(client)
    response = shop.charge("pm_card_createDispute", amount=AMOUNT)
    assert response.status_code == 201, response.text
    payment_id = response.json()["payment"]["id"]
    deliver()
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        dispute = db.exec(select(Dispute).where(Dispute.payment_id == payment_id)).one()
        dispute_evidence.add_evidence(db, scope, dispute.id, [Upload("n.pdf", PDF)], actor=MEMBER)
    assert dispute.gateway_dispute_id and dispute.gateway_dispute_id.startswith("dp_")
    return shop, payment_id, dispute


def submit(shop: Shop, dispute: Dispute, text: str = STORY) -> Dispute:
    with session_scope() as db:
        scope = Scope(shop.merchant_id, False)
        return dispute_evidence.submit_evidence(db, scope, dispute.id, text, actor=MEMBER)


def accept(shop: Shop, dispute: Dispute) -> Dispute:
    with session_scope() as db:
        scope = Scope(shop.merchant_id, False)
        return dispute_evidence.accept_dispute(db, scope, dispute.id, actor=MEMBER)


def audit_actions(dispute_id: str) -> list[str]:
    with session_scope() as db:
        query = select(AuditLog.action).where(AuditLog.object_id == dispute_id)
        return sorted(db.exec(query).all())


def snapshot(payment_id: str, dispute_id: str) -> dict[str, Any]:
    with session_scope() as db:
        response = db.exec(
            select(DisputeResponse).where(DisputeResponse.dispute_id == dispute_id)
        ).first()
        attempts = db.exec(
            select(PaymentAttempt.operation).where(PaymentAttempt.payment_id == payment_id)
        ).all()
    return {
        "state": state(payment_id),
        "audit": audit_actions(dispute_id),
        "outbox": outbox(payment_id),
        "response": response and (response.explanation, response.submitted_at),
        "attempts": sorted(attempts),
    }


def test_submitting_evidence_uploads_the_file_submits_and_its_event_books_nothing(
    client: TestClient, fake: FakeStripe, deliver: Delivery
):
    shop, payment_id, dispute = stripe_dispute(client, deliver)
    assert submit(shop, dispute).status == "under_review"

    (upload,) = fake.calls("POST", "/v1/files")
    assert upload.uploads["file"] == ("n.pdf", PDF)
    (file_id,) = fake.files
    (update,) = fake.calls("POST", f"/v1/disputes/{dispute.gateway_dispute_id}")
    assert update.params["submit"] == "true"
    assert update.params["evidence"]["uncategorized_text"] == STORY
    assert update.params["evidence"]["uncategorized_file"] == file_id
    assert fake.disputes[dispute.gateway_dispute_id]["status"] == "under_review"
    deliver()  # charge.dispute.updated (under_review): what our call already booked
    deliver.again()
    after = snapshot(payment_id, dispute.id)
    assert after["state"]["disputes"] == [(dispute.gateway_dispute_id, "under_review", AMOUNT)]
    assert after["audit"].count("dispute.evidence_submitted") == 1
    assert "dispute_submit" in after["attempts"]


def test_winning_evidence_is_won_by_stripes_events_once(
    client: TestClient, fake: FakeStripe, deliver: Delivery
):
    shop, payment_id, dispute = stripe_dispute(client, deliver)
    assert submit(shop, dispute, f"{STORY} winning_evidence").status == "under_review"
    deliver()  # updated, closed (won), funds_reinstated
    deliver.again()
    after = snapshot(payment_id, dispute.id)
    assert after["state"]["status"] == "succeeded"
    assert after["state"]["disputes"] == [(dispute.gateway_dispute_id, "won", AMOUNT)]
    assert after["audit"].count("dispute.closed") == 1


def test_accepting_closes_it_at_stripe_and_its_event_books_nothing(
    client: TestClient, fake: FakeStripe, deliver: Delivery
):
    shop, payment_id, dispute = stripe_dispute(client, deliver)
    assert accept(shop, dispute).status == "lost"
    assert fake.disputes[dispute.gateway_dispute_id]["status"] == "lost"
    deliver()  # charge.dispute.closed (lost)
    after = snapshot(payment_id, dispute.id)
    assert after["state"]["status"] == "disputed"
    assert after["state"]["disputes"] == [(dispute.gateway_dispute_id, "lost", AMOUNT)]
    assert after["audit"].count("dispute.closed") == 1 and "dispute.accepted" in after["audit"]
    with pytest.raises(Conflict, match="only a dispute awaiting your response"):
        accept(shop, dispute)


def test_when_stripe_refuses_or_fails_nothing_changes(
    client: TestClient, fake: FakeStripe, deliver: Delivery
):
    shop, payment_id, dispute = stripe_dispute(client, deliver)
    before = snapshot(payment_id, dispute.id)
    fake.fail_next(1, 500)
    with pytest.raises(routing.AllGatewaysUnavailable, match="nothing was changed"):
        submit(shop, dispute)
    fake.fail_next(1, 503)
    with pytest.raises(routing.AllGatewaysUnavailable):
        accept(shop, dispute)
    assert snapshot(payment_id, dispute.id) == before
    fake.decide_dispute(str(dispute.gateway_dispute_id), won=False)  # decided, events not yet in
    with pytest.raises(Conflict, match="Stripe refused this: This dispute is already lost"):
        submit(shop, dispute)
    with pytest.raises(Conflict, match="already lost"):
        accept(shop, dispute)
    assert snapshot(payment_id, dispute.id) == before


@pytest.mark.parametrize(
    ("words", "status", "payment_status"),
    [("winning_evidence", "won", "succeeded"), ("losing_evidence", "lost", "disputed")],
)
def test_the_sandbox_decides_at_once(
    configured_app: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    words: str,
    status: str,
    payment_status: str,
):
    from backend.services.payments.sandbox_followups import dispute_later

    monkeypatch.setenv("UPLOADS_DIR", str(tmp_path / "uploads"))
    from tests.conftest import _reset_caches

    _reset_caches()
    with TestClient(webhook_app(monkeypatch)) as client:
        shop = new_merchant(client)
        response = shop.charge("4000000000000259", amount=AMOUNT)
        payment_id = response.json()["payment"]["id"]
        scope = Scope(shop.merchant_id, False)
        with session_scope() as db:  # the follow-up ran in the background: once is enough
            opened = db.exec(select(Dispute).where(Dispute.payment_id == payment_id)).first()
        if opened is None:
            dispute_later(scope, payment_id)
        with session_scope() as db:
            dispute = db.exec(select(Dispute).where(Dispute.payment_id == payment_id)).one()
            dispute_evidence.add_evidence(
                db, scope, dispute.id, [Upload("n.pdf", PDF)], actor=MEMBER
            )
        assert submit(shop, dispute, f"{STORY} {words}").status == status
        assert state(payment_id)["status"] == payment_status
        actions = audit_actions(dispute.id)
        assert actions.count("dispute.evidence_submitted") == actions.count("dispute.closed") == 1
