"""Reconciliation end to end, through the real Stripe SDK against the local FakeStripe: a
merchant's own Stripe account (FakeStripe.account) beside the platform's, its payouts imported
once whatever repeats, each kind of mismatch found once, resolved by owners and admins only,
exported, and never seen by another merchant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.models import (
    AuditLog,
    Membership,
    Merchant,
    Payment,
    Payout,
    ReconciliationException,
    utcnow,
)
from backend.models.enums import ActorType, PayoutStatus, Role
from backend.services.context import Actor, Scope
from backend.services.identity import accounts, sessions
from backend.services.identity.sessions import SessionContext
from backend.services.payments import booking, gateway_configs
from backend.services.reconciliation import jobs, page, runs
from tests.fakes.stripe_api import FakeStripe
from tests.integration import webhook_signing as ws
from tests.integration.api_client import Merchant as Shop
from tests.integration.test_webhooks_inbound import send, webhook_app

KEY = "sk_test_fake_platform_recon"
OWN_KEY = "sk_test_" + "Own9" * 6
OWN_SECRET = "whsec_" + "e5" * 16
PASSWORD = "a long passphrase 1"
LATER = timedelta(days=3)  # past the grace period


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def client(
    configured_app: str, monkeypatch: pytest.MonkeyPatch, fake: FakeStripe
) -> Iterator[TestClient]:
    monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fake.url)
    monkeypatch.delenv("PLAID_CLIENT_ID", raising=False)
    with TestClient(webhook_app(monkeypatch)) as client:
        yield client


@dataclass
class Account:
    shop: Shop
    email: str
    token: str
    config_id: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.shop.merchant_id, False)

    def ctx(self, role: Role = Role.OWNER) -> SessionContext:
        with session_scope() as db:
            ctx = sessions.resolve(db, self.token)
        assert ctx is not None
        return SessionContext(**{**ctx.__dict__, "role": role})


def merchant(client: TestClient, *, own_key: str | None = None) -> Account:
    email = f"owner-{uuid.uuid4().hex[:10]}@shop.test"
    with session_scope() as db:
        created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Shop")
    with session_scope() as db:
        token, _ = sessions.sign_in(db, email=email, password=PASSWORD)
    account = Account(Shop(client, created.merchant.id, created.test_secret_key), email, token)
    if own_key:
        with session_scope() as db:
            config = gateway_configs.add(
                db, account.scope, gateway="stripe", secret_key=own_key, webhook_secret=OWN_SECRET
            )
            account.config_id = config.id
    return account


def charge(account: Account, amount: int = 10_000, **extra: Any) -> Payment:
    response = account.shop.charge("pm_card_visa", amount=amount, **extra)
    assert response.status_code == 201, response.text
    with session_scope() as db:
        payment = db.get(Payment, response.json()["payment"]["id"])
        assert payment is not None
        return payment


def stored(merchant_id: str) -> list[ReconciliationException]:
    with session_scope() as db:
        return list(
            db.exec(
                select(ReconciliationException)
                .where(ReconciliationException.merchant_id == merchant_id)
                .order_by(ReconciliationException.kind)
            )
        )


def reconcile(account: Account, later: timedelta = LATER) -> runs.RunSummary:
    summary = jobs.reconcile(account.shop.merchant_id, False, now=utcnow() + later)
    assert summary.errors == []
    return summary


def payouts_of(account: Account) -> list[Payout]:
    with session_scope() as db:
        return list(db.exec(select(Payout).where(Payout.merchant_id == account.shop.merchant_id)))


def count(model: Any, *where: Any) -> int:
    with session_scope() as db:
        return db.exec(select(func.count()).select_from(model).where(*where)).one()


def deliver(client: TestClient, account: Account, events: list[dict[str, Any]]) -> None:
    for event in events:
        body, headers = ws.signed(event, OWN_SECRET)
        response = client.post(
            f"/api/webhooks/stripe/{account.config_id}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text


# -- the payout import ------------------------------------------------------------------------


def test_own_account_payouts_are_imported_once_and_move_with_stripe(
    client: TestClient, fake: FakeStripe
):
    own = fake.account(OWN_KEY)
    shop = merchant(client, own_key=OWN_KEY)
    payment = charge(shop)
    assert payment.gateway_config_id == shop.config_id
    paid = own.pay_out()  # payout.created (pending), then payout.paid

    reconcile(shop)
    (payout,) = payouts_of(shop)
    assert (payout.rail, payout.rail_transfer_id, payout.holder) == (
        "stripe",
        paid["id"],
        shop.config_id,
    )
    assert (payout.status, payout.amount, payout.currency) == ("paid", paid["amount"], "USD")
    audit_rows = count(AuditLog, AuditLog.object_id == payout.id)

    # The import again, and Stripe's events (twice, under new ids) book nothing more.
    reconcile(shop)
    deliver(client, shop, own.events)
    deliver(client, shop, [{**e, "id": ws.new_id("evt")} for e in own.events])
    assert [p.status for p in payouts_of(shop)] == ["paid"]
    assert count(AuditLog, AuditLog.object_id == payout.id) == audit_rows

    # A payout first seen in its events, then failed: moved by the events, the import agrees.
    charge(shop, 5_000)
    sent = len(own.events)
    failed = own.pay_out(failure_code="account_closed")
    deliver(client, shop, own.events[sent : sent + 1])  # payout.created: pending
    (recorded,) = [p for p in payouts_of(shop) if p.rail_transfer_id == failed["id"]]
    assert recorded.status == "pending"
    deliver(client, shop, own.events[sent + 1 :])  # payout.failed
    reconcile(shop)
    (moved,) = [p for p in payouts_of(shop) if p.rail_transfer_id == failed["id"]]
    assert (moved.status, moved.failure_code) == ("failed", "account_closed")
    assert len(payouts_of(shop)) == 2
    # Everything matches: the payouts, the charges, their fees.
    assert stored(shop.shop.merchant_id) == []


def test_the_platform_accounts_payout_events_touch_nothing(client: TestClient, fake: FakeStripe):
    shop = merchant(client)
    charge(shop)
    fake.pay_out()
    for event in fake.events:
        assert send(client, event).status_code == 200
    assert payouts_of(shop) == []


# -- reconciliation ---------------------------------------------------------------------------


def test_nothing_is_found_when_both_sides_match(client: TestClient, fake: FakeStripe):
    own = fake.account(OWN_KEY)
    direct, platform = merchant(client, own_key=OWN_KEY), merchant(client)
    for account in (direct, platform):
        payment = charge(account)
        refund = account.shop.post(f"/api/payments/{payment.id}/refund", {"amountCents": 2_500})
        assert refund.status_code in (200, 201), refund.text
    own.pay_out()
    for account in (direct, platform):
        summary = reconcile(account)
        assert (summary.found, summary.still_open) == (0, 0)
        assert stored(account.shop.merchant_id) == []


def test_each_kind_of_mismatch_is_found_once(client: TestClient, fake: FakeStripe):
    own = fake.account(OWN_KEY)
    shop = merchant(client, own_key=OWN_KEY)
    fee_off, missing, amount_off = charge(shop), charge(shop, 20_000), charge(shop, 30_000)
    by_source = {bt["source"]: bt for bt in own.balance_transactions.values()}
    charge_of = {
        p.id: by_source[own.payment_intents[p.gateway_payment_id]["latest_charge"]]
        for p in (fee_off, missing, amount_off)
    }
    charge_of[fee_off.id]["fee"] += 7
    charge_of[amount_off.id]["amount"] -= 100
    del own.balance_transactions[charge_of[missing.id]["id"]]
    unknown = own.add_balance_transaction("charge", 5_000, fee=175)

    # Within the grace period only what both sides hold is judged: nothing is missing yet.
    assert jobs.reconcile(shop.shop.merchant_id, False).found == 2
    assert {r.kind for r in stored(shop.shop.merchant_id)} == {"fee_differs", "amount_differs"}

    summary = reconcile(shop)
    found = {(r.kind, r.object_id or r.their_id) for r in stored(shop.shop.merchant_id)}
    assert found == {
        ("fee_differs", fee_off.id),
        ("amount_differs", amount_off.id),
        ("missing_theirs", missing.id),
        ("missing_ours", unknown["source"]),
    }
    assert (summary.found, summary.still_open) == (2, 2)
    (fee_row,) = [r for r in stored(shop.shop.merchant_id) if r.kind == "fee_differs"]
    assert (fee_row.expected, fee_row.actual) == (fee_off.gateway_fee, fee_off.gateway_fee + 7)
    assert fee_row.evidence["ours"]["processor_id"] == fee_off.gateway_payment_id
    assert fee_row.evidence["theirs"]["fee"] == fee_off.gateway_fee + 7

    # Running again never duplicates; a difference put right is resolved by the next run.
    again = reconcile(shop)
    assert (again.found, again.still_open) == (0, 4)
    assert len(stored(shop.shop.merchant_id)) == 4
    charge_of[fee_off.id]["fee"] -= 7
    assert reconcile(shop).resolved == 1
    (fee_row,) = [r for r in stored(shop.shop.merchant_id) if r.kind == "fee_differs"]
    assert fee_row.status == "resolved" and "agreement" in (fee_row.resolution_note or "")


def test_platform_account_payments_missing_at_stripe(client: TestClient, fake: FakeStripe):
    shop, other = merchant(client), merchant(client)
    payment = charge(shop)
    charge(other)
    source = fake.payment_intents[payment.gateway_payment_id]["latest_charge"]
    (bt_id,) = [k for k, bt in fake.balance_transactions.items() if bt["source"] == source]
    del fake.balance_transactions[bt_id]
    reconcile(shop)
    assert [(r.kind, r.object_id, r.account) for r in stored(shop.shop.merchant_id)] == [
        ("missing_theirs", payment.id, "platform")
    ]
    # The other merchant's movements on the platform's account are not this merchant's.
    reconcile(other)
    assert stored(other.shop.merchant_id) == []


def test_payouts_the_rail_returned_or_does_not_know(client: TestClient):
    from backend.integrations.bank_payouts import SANDBOX

    shop = merchant(client)
    with session_scope() as db:  # funds available at once, so they can be paid out
        row = db.get(Merchant, shop.shop.merchant_id)
        assert row is not None
        row.payout_delay_days = 0
        db.add(row)
    response = shop.shop.charge(amount=50_000, gatewayType="sandbox")
    assert response.status_code == 201, response.text
    sent = SANDBOX.send(
        access_token="access-sandbox",
        account_id="acc",
        amount=10_000,
        currency="USD",
        idempotency_key=uuid.uuid4().hex,
        legal_name="Shop",
        description="payout",
    )
    actor = Actor(ActorType.SYSTEM)
    with session_scope() as db:
        returned = Payout(
            id=f"po_{uuid.uuid4().hex[:20]}",
            merchant_id=shop.shop.merchant_id,
            amount=10_000,
            currency="USD",
            rail="sandbox",
            rail_transfer_id=sent.transfer_id,
        )
        booking.create_payout(db, returned, actor)
        booking.payout_in_transit(db, returned, actor)
        unknown = Payout(
            id=f"po_{uuid.uuid4().hex[:20]}",
            merchant_id=shop.shop.merchant_id,
            amount=5_000,
            currency="USD",
            rail="sandbox",
            rail_transfer_id=str(uuid.uuid4()),
        )
        booking.create_payout(db, unknown, actor)
        booking.payout_in_transit(db, unknown, actor)
        booking.payout_paid(db, unknown, actor)
    SANDBOX.advance(sent.transfer_id, "posted")
    SANDBOX.advance(sent.transfer_id, "returned", "R01")

    reconcile(shop)
    found = {(r.kind, r.object_id, r.their_id) for r in stored(shop.shop.merchant_id)}
    assert found == {
        ("payout_returned", returned.id, sent.transfer_id),
        ("missing_theirs", unknown.id, ""),
    }
    (row,) = [r for r in stored(shop.shop.merchant_id) if r.kind == "payout_returned"]
    assert row.evidence["theirs"]["failure_code"] == "R01"
    with session_scope() as db:  # nothing was booked by the run
        assert db.get(Payout, returned.id).status == PayoutStatus.IN_TRANSIT  # type: ignore[union-attr]


# -- resolving, the page, the CSV, isolation --------------------------------------------------


def mismatched(client: TestClient, fake: FakeStripe) -> tuple[Account, ReconciliationException]:
    own = fake.account(OWN_KEY)
    shop = merchant(client, own_key=OWN_KEY)
    charge(shop)
    own.add_balance_transaction("charge", 5_000, fee=175, source="ch_=HYPERLINK(1)")
    reconcile(shop)
    (row,) = stored(shop.shop.merchant_id)
    return shop, row


def test_resolving_needs_an_owner_or_admin_and_a_note_and_is_audited(
    client: TestClient, fake: FakeStripe
):
    shop, row = mismatched(client, fake)
    for role in (Role.ANALYST, Role.SUPPORT, Role.DEVELOPER):
        with pytest.raises(PermissionDenied):
            page.resolve(shop.ctx(role), row.id, "looked at it", ip_address=None)
        with pytest.raises(PermissionDenied):
            page.run_now(shop.ctx(role), ip_address=None)
    with pytest.raises(ValidationFailed, match="note is required"):
        page.resolve(shop.ctx(Role.ADMIN), row.id, "   ", ip_address=None)
    other = merchant(client)
    with pytest.raises(NotFound):
        page.resolve(other.ctx(), row.id, "not mine", ip_address=None)

    page.resolve(shop.ctx(Role.ADMIN), row.id, "A test charge from our POS", ip_address="127.0.0.1")
    (done,) = stored(shop.shop.merchant_id)
    assert (done.status, done.resolution_note) == ("resolved", "A test charge from our POS")
    assert done.resolved_by == shop.ctx().user_id and done.resolved_at is not None
    with session_scope() as db:
        (audit,) = db.exec(select(AuditLog).where(AuditLog.object_id == row.id)).all()
    assert audit.action == "reconciliation_exception.resolved"
    assert (audit.actor_id, audit.ip_address) == (shop.ctx().user_id, "127.0.0.1")

    # It stays resolved through later runs, and the page lists it under resolved, in words.
    summary = page.run_now(shop.ctx(), ip_address=None)
    assert (summary.found, summary.still_open) == (0, 0)
    shown = page.page(shop.ctx(Role.ANALYST), locale="en_US", tz="UTC")
    assert shown.open == [] and not shown.can_reconcile
    (view,) = shown.resolved
    assert view.what == "Missing in our records" and view.resolved_by == shop.email
    assert "Amount: $50.00" in view.theirs and "Processor fee: $1.75" in view.theirs
    assert page.page(other.ctx(), locale="en_US", tz="UTC").resolved == []


def test_the_csv_is_the_merchants_own_with_formulas_kept_as_text(
    client: TestClient, fake: FakeStripe
):
    shop, row = mismatched(client, fake)
    page.resolve(shop.ctx(), row.id, "=cmd|' /C calc'!A0", ip_address=None)
    client.cookies.set("pp_session", shop.token)
    response = client.get("/api/portal/exports/reconciliation.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,found_at,status,what")
    assert len(lines) == 2 and row.id in lines[1] and "Missing in our records" in lines[1]
    assert ",50.00," in lines[1] and "'=cmd" in lines[1]

    other = merchant(client)
    client.cookies.set("pp_session", other.token)
    assert row.id not in client.get("/api/portal/exports/reconciliation.csv").text
    with session_scope() as db:
        membership = db.exec(
            select(Membership).where(Membership.merchant_id == other.shop.merchant_id)
        ).one()
        membership.role = Role.SUPPORT
        db.add(membership)
    assert client.get("/api/portal/exports/reconciliation.csv").status_code == 403
