"""Card testing on the hosted checkout, on SQLite and PostgreSQL: a session locks after a few
declines, an address that keeps being declined is refused across sessions, a customer who
mistypes once or twice pays as usual. And the receipt e-mail's time in the customer's zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import RateLimited, ValidationFailed
from backend.models import AuditLog, DomainEvent, Order, OutboundEmail, Payment
from backend.services.checkout import card_testing as checkout_declines
from backend.services.checkout import paying, payment_links, session_state
from backend.services.context import Scope
from backend.services.payments import circuit, routing
from tests.integration.api_client import Merchant, new_merchant

URLS = {"successUrl": "https://shop.test/thanks", "cancelUrl": "https://shop.test/cart"}
OK = "4242424242424242"
DECLINES = ["4000000000000002", "4000000000009995", "4000000000000069", "4000000000000127"]


@pytest.fixture
def client(configured_app: str):  # type: ignore[no-untyped-def]
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


@pytest.fixture
def ip() -> str:
    """An address of its own: the per-process `limits` store outlives a test."""
    n = uuid.uuid4().int
    return f"203.0.{n % 250}.{(n >> 8) % 250 + 1}"


def session_of(shop: Merchant, amount: int = 2500) -> str:
    body = {"currency": "USD", "amountCents": amount, **URLS}
    response = shop.post("/api/checkout/sessions", body)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def pay(session_id: str, token: str, ip: str | None = None, **kwargs: str) -> paying.PayResult:
    with session_scope() as db:
        return paying.pay(
            db, session_id, token=token, customer_email="ann@example.com", ip_address=ip, **kwargs
        )


def decline(session_id: str, times: int, ip: str | None) -> None:
    for n in range(times):
        result = pay(session_id, DECLINES[n % len(DECLINES)], ip)
        assert result.status == session_state.DECLINED, result


def attempts(session_id: str) -> int:
    with session_scope() as db:
        order_id = paying.open_session(db, session_id).session.order_id
        return len(db.exec(select(Payment).where(Payment.order_id == order_id)).all())


def audit_rows(session_id: str, action: str) -> list[AuditLog]:
    with session_scope() as db:
        return list(
            db.exec(
                select(AuditLog).where(AuditLog.object_id == session_id, AuditLog.action == action)
            ).all()
        )


def test_five_declines_lock_the_session(shop: Merchant, ip: str) -> None:
    sid = session_of(shop)
    decline(sid, checkout_declines.MAX_SESSION_DECLINES - 1, ip)
    locked = pay(sid, DECLINES[0], ip)
    assert (locked.status, locked.error_code) == (session_state.LOCKED, "too_many_declines")

    # The merchant's side: expired, with the reason in the audit log and the webhook sent.
    read = shop.get(f"/api/checkout/sessions/{sid}").json()["session"]
    assert read["status"] == "expired"
    [expired] = audit_rows(sid, "checkout.session.expired")
    assert expired.details["reason"] == "too_many_declines" and expired.ip_address == ip
    with session_scope() as db:
        events = db.exec(select(DomainEvent).where(DomainEvent.object_id == sid)).all()
        assert [e.type for e in events].count("checkout.session.expired") == 1
        assert db.get(Order, read["orderId"]).status == "canceled"

    # Further attempts, even with a good card, reach no gateway; the page keeps saying why.
    assert pay(sid, OK, ip).status == session_state.LOCKED
    assert pay(sid, OK, "192.0.2.9").status == session_state.LOCKED
    assert attempts(sid) == checkout_declines.MAX_SESSION_DECLINES
    with session_scope() as db:
        assert paying.open_session(db, sid).status == session_state.LOCKED


def test_a_mistake_or_two_then_paying_is_fine(shop: Merchant, ip: str) -> None:
    sid = session_of(shop)
    decline(sid, 2, ip)
    assert pay(sid, OK, ip).status == session_state.COMPLETE
    assert shop.get(f"/api/checkout/sessions/{sid}").json()["session"]["status"] == "complete"
    assert checkout_declines.address_wait(ip, shop.merchant_id, False) == 0
    # Another order from the same customer later on is not slowed down either.
    assert pay(session_of(shop), OK, ip).status == session_state.COMPLETE


def test_three_d_secure_failures_count_as_declines(shop: Merchant, ip: str) -> None:
    sid = session_of(shop)
    for n in range(checkout_declines.MAX_SESSION_DECLINES):
        assert pay(sid, "4000002500003155", ip).status == session_state.REQUIRES_ACTION
        with session_scope() as db:
            failed = paying.finish_action(db, sid, approved=False, ip_address=ip)
        last = n == checkout_declines.MAX_SESSION_DECLINES - 1
        assert failed.status == (session_state.LOCKED if last else session_state.DECLINED)


def test_processor_trouble_and_refused_input_do_not_count(
    shop: Merchant, ip: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = session_of(shop)
    # The sandbox's own switch for a processor that cannot be reached.
    monkeypatch.setattr(routing._build("sandbox", None), "unavailable", True)
    for _ in range(checkout_declines.MAX_SESSION_DECLINES + 1):
        result = pay(sid, OK, ip)
        assert (result.status, result.error_code) == (session_state.DECLINED, "unavailable")
    monkeypatch.undo()
    # The processor is back; its circuit opened on those failures, so let the cool-down end.
    monkeypatch.setattr(circuit, "COOL_DOWN", timedelta(0))
    for _ in range(checkout_declines.MAX_SESSION_DECLINES + 1):
        with pytest.raises(ValidationFailed):
            pay(sid, "4111111111111112", ip)  # not a sandbox test card: refused before charging
    assert pay(sid, OK, ip).status == session_state.COMPLETE
    assert checkout_declines.address_wait(ip, shop.merchant_id, False) == 0


def test_declines_from_one_address_are_throttled_across_sessions(
    client: TestClient, shop: Merchant, ip: str
) -> None:
    first, second, third = session_of(shop), session_of(shop), session_of(shop)
    decline(first, 4, ip)
    decline(second, 4, ip)
    decline(third, 1, ip)
    assert audit_rows(third, "checkout.session.address_throttled") == []
    decline(third, 1, ip)  # the tenth decline from this address in ten minutes
    [throttled] = audit_rows(third, "checkout.session.address_throttled")
    assert throttled.ip_address == ip and throttled.details["retryAfter"] > 0

    # Any session of the merchant, any card: refused before a gateway, with the time to wait.
    for sid in (third, first, session_of(shop)):
        before = attempts(sid)
        refused = pay(sid, OK, ip)
        assert (refused.status, refused.error_code) == (
            session_state.THROTTLED,
            "too_many_declines",
        )
        assert 0 < refused.retry_after <= 600
        assert attempts(sid) == before
    pay(third, OK, ip)
    assert len(audit_rows(third, "checkout.session.attempt_refused")) == 1  # once a session

    # A payment link opens no session for that address.
    with session_scope() as db:
        link = payment_links.create_link(
            db, Scope(shop.merchant_id, False), name="Tea", currency="USD", unit_amount=900
        )
    with pytest.raises(RateLimited) as refused_visit, session_scope() as db:
        payment_links.start_session(db, link.id, ip_address=ip)
    assert refused_visit.value.code == "too_many_declines"

    # Another address, and (in test mode) another merchant's page, are not affected.
    assert pay(session_of(shop), OK, "192.0.2.77").status == session_state.COMPLETE
    assert pay(session_of(new_merchant(client)), OK, ip).status == session_state.COMPLETE
    with session_scope() as db:
        assert payment_links.start_session(db, link.id, ip_address="192.0.2.77").status == "open"


def test_the_receipt_email_shows_the_customers_time(shop: Merchant) -> None:
    sid = session_of(shop)
    with time_machine.travel(datetime(2026, 3, 12, 14, 5, tzinfo=UTC)):
        done = pay(sid, OK, locale="de_DE", time_zone="Europe/Berlin")
    paying.send_receipt(done.receipt_email_id)
    with session_scope() as db:
        mail = db.exec(
            select(OutboundEmail).where(OutboundEmail.merchant_id == shop.merchant_id)
        ).one()
    assert mail.subject == "Ihre Quittung von Shop"
    assert "Datum: 12. März 2026, 15:05 MEZ" in mail.text_body
    assert "25,00\xa0$" in mail.text_body


@pytest.mark.redis
def test_every_worker_sees_the_address_count_through_redis(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, ip: str
) -> None:
    from backend.core import throttle
    from backend.core.config import get_settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    try:
        for _ in range(10):
            checkout_declines.count_address_decline(ip, "m_redis", True)
        throttle._limiter.cache_clear()  # another worker: a limiter of its own, the same Redis
        assert checkout_declines.address_wait(ip, "m_redis", True) > 0
        throttle.clear(checkout_declines.ADDRESS_DECLINES, "checkout-declines", "live", f"ip:{ip}")
        assert checkout_declines.address_wait(ip, "m_redis", True) == 0
    finally:
        monkeypatch.delenv("REDIS_URL")
        get_settings.cache_clear()
        throttle._limiter.cache_clear()
