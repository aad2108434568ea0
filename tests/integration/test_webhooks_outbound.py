"""Outbound webhooks end to end, on SQLite and PostgreSQL, with a real receiver on 127.0.0.1.

Time is the test's: every call takes `now`, so a three-day retry schedule runs in a second.
Only the receiver's "hang past the timeout" takes real time (WEBHOOK_TIMEOUT_SECONDS=0.5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from backend.api.routes import webhook_endpoints as schemas
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import (
    DomainEvent,
    IdempotencyKey,
    OutboundEmail,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    utcnow,
)
from backend.services import events
from backend.services.context import Scope
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import delivery as webhook_delivery
from backend.services.webhooks.outbound import endpoints as webhook_endpoints
from backend.services.webhooks.outbound import fanout as webhook_fanout
from backend.services.webhooks.outbound import schedule as webhook_schedule
from backend.services.webhooks.outbound import sending as webhook_sending
from backend.services.webhooks.outbound import urls as webhook_urls
from tests.conftest import _reset_caches
from tests.fakes.receiver import Hang, Receiver, Reply
from tests.integration.api_client import Merchant, new_merchant

ROOT = Path(__file__).resolve().parents[2]

# The merchant-facing verification example, exactly as the README shows it. The tests below
# run this text, so the documented snippet is the one that is proven to work.
README_SNIPPET = '''
import hashlib, hmac, time


def verify_signature(payload: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """payload: the raw request body; header: the PayPortal-Signature header's value."""
    pairs = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [int(v) for k, v in pairs if k == "t" and v.isdigit()]
    if len(timestamps) != 1 or abs(time.time() - timestamps[0]) > tolerance:
        return False  # no timestamp, or too old: possibly a replayed request
    signed = f"{timestamps[0]}.".encode() + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in pairs if k == "v1")
'''


def readme_verifier(at: float | None = None) -> Callable[[bytes, str, str], bool]:
    """The README's verify_signature; `at` stands in for the receiver's clock."""
    namespace: dict[str, Any] = {}
    exec(README_SNIPPET, namespace)
    if at is not None:
        namespace["time"] = SimpleNamespace(time=lambda: at)
    return namespace["verify_signature"]


def test_the_readme_carries_the_tested_snippet():
    readme = (ROOT / "README.md").read_text()
    if "def verify_signature" not in readme:
        pytest.skip("README.md has no webhook verification section yet")
    assert README_SNIPPET.strip() in readme


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def outbound(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Loopback endpoints allowed (test mode), short timeouts, tasks run inline, no SendGrid."""
    from backend.core.jobs import huey

    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("JOBS_BACKEND", "memory")
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    _reset_caches()
    # backend.core.jobs.huey was built at import time, maybe with another backend: run it inline.
    was_immediate = huey.immediate
    huey.immediate = True
    yield configured_app
    huey.immediate = was_immediate


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as hook:
        yield hook


def build_app() -> FastAPI:
    from backend.api import create_app

    app = create_app()
    if "/api/webhook_endpoints" not in app.openapi()["paths"]:  # until app.py includes it
        app.include_router(schemas.router)
        app.openapi_schema = None  # rebuilt with these routes on next use
    return app


@pytest.fixture
def client(outbound: str) -> Iterator[TestClient]:
    with TestClient(build_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


@pytest.fixture
def scope(shop: Merchant) -> Scope:
    return Scope(shop.merchant_id, livemode=False)


# --- helpers --------------------------------------------------------------------------------


def reread_settings() -> None:
    """After a monkeypatched environment change: settings read again, the old engine closed."""
    from backend.core.db import get_engine

    get_engine().dispose()
    _reset_caches()


def make_endpoint(
    scope: Scope, url: str, enabled: list[str] | None = None
) -> tuple[WebhookEndpoint, str]:
    with session_scope() as db:
        created = webhook_endpoints.create_endpoint(
            db, scope, url=url, enabled_events=enabled or ["*"]
        )
    return created.endpoint, created.secret


def emit(scope: Scope, type: str = "payment.succeeded", **data: Any) -> str:
    with session_scope() as db:
        event = events.emit(
            db,
            type=type,
            merchant_id=scope.merchant_id,
            livemode=scope.livemode,
            object_type="payment",
            object_id="pay_test",
            data={"id": "pay_test", "amount": 1234, **data},
        )
    return event.id


def dispatch(now: datetime | None = None) -> list[str]:
    """Drain the outbox (a shared PostgreSQL database may hold other tests' events)."""
    created: list[str] = []
    while True:
        with session_scope() as db:
            done = webhook_fanout.dispatch_outbox(db, now=now)
        created += done.deliveries
        if not done.events:
            return created


def deliveries_of(endpoint_id: str) -> list[WebhookDelivery]:
    with session_scope(readonly=True) as db:
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        return list(db.exec(query.order_by(col(WebhookDelivery.id))).all())


def only_delivery(endpoint_id: str) -> WebhookDelivery:
    found = deliveries_of(endpoint_id)
    assert len(found) == 1, found
    return found[0]


def load(delivery_id: str) -> WebhookDelivery:
    with session_scope(readonly=True) as db:
        found = db.get(WebhookDelivery, delivery_id)
    assert found is not None
    return found


def attempts_of(delivery_id: str) -> list[WebhookDeliveryAttempt]:
    with session_scope(readonly=True) as db:
        query = select(WebhookDeliveryAttempt).where(
            WebhookDeliveryAttempt.delivery_id == delivery_id
        )
        return list(db.exec(query.order_by(col(WebhookDeliveryAttempt.attempted_at))).all())


def endpoint_row(endpoint_id: str) -> WebhookEndpoint:
    with session_scope(readonly=True) as db:
        found = db.get(WebhookEndpoint, endpoint_id)
    assert found is not None
    return found


def emails(merchant_id: str, template: str) -> list[OutboundEmail]:
    with session_scope(readonly=True) as db:
        query = select(OutboundEmail).where(
            OutboundEmail.merchant_id == merchant_id, OutboundEmail.template == template
        )
        return list(db.exec(query).all())


def signature_time(header: str) -> int:
    return int(dict(p.split("=", 1) for p in header.split(",") if p.startswith("t="))["t"])


def pending_one(scope: Scope, url: str, now: datetime, **kwargs: Any) -> tuple[str, str, str]:
    """An endpoint with one delivery due at `now`: (endpoint id, delivery id, secret)."""
    endpoint, secret = make_endpoint(scope, url, **kwargs)
    emit(scope)
    dispatch(now)
    return endpoint.id, only_delivery(endpoint.id).id, secret


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_schedule, "jitter_source", lambda: 0.0)


# --- delivery, retries and signatures --------------------------------------------------------


def test_fails_times_out_then_succeeds_on_schedule_and_is_never_sent_again(
    scope: Scope, receiver: Receiver
):
    receiver.script(Reply(500, b"boom"), Hang(3.0), Reply(200, b"thanks"))
    t0 = utcnow()
    endpoint_id, delivery_id, secret = pending_one(scope, receiver.url, t0)

    first = webhook_delivery.deliver(delivery_id, now=t0)
    assert first is not None and (first.status, first.status_code) == ("pending", 500)
    assert first.next_attempt_at is not None
    assert t0 + timedelta(seconds=30) <= first.next_attempt_at <= t0 + timedelta(minutes=1)
    # Not due yet: nothing is sent.
    assert (
        webhook_delivery.deliver(delivery_id, now=first.next_attempt_at - timedelta(seconds=1))
        is None
    )
    assert len(receiver.received) == 1

    t1 = first.next_attempt_at
    second = webhook_delivery.deliver(delivery_id, now=t1)
    assert second is not None and second.status == "pending" and second.status_code is None
    assert second.error == "timed out after 0.5 s"
    assert second.next_attempt_at is not None
    assert t1 + timedelta(minutes=2.5) <= second.next_attempt_at <= t1 + timedelta(minutes=5)

    t2 = second.next_attempt_at
    third = webhook_delivery.deliver(delivery_id, now=t2)
    assert third is not None and (third.status, third.status_code) == ("succeeded", 200)
    assert third.next_attempt_at is None

    # Done for good: a late worker, a sweep or a redelivery sends nothing more.
    assert webhook_delivery.deliver(delivery_id, now=t2 + timedelta(days=1)) is None
    with session_scope(readonly=True) as db:
        assert delivery_id not in webhook_delivery.due_deliveries(db, now=t2 + timedelta(days=1))
    with pytest.raises(Conflict), session_scope() as db:
        webhook_deliveries.redeliver(db, scope, delivery_id, now=t2)
    assert len(receiver.received) == 3

    delivery = load(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("succeeded", 3, t2)
    assert endpoint_row(endpoint_id).failing_since is None
    log = attempts_of(delivery_id)
    assert [a.attempted_at for a in log] == [t0, t1, t2]
    assert [a.status_code for a in log] == [500, None, 200]
    assert [a.response_excerpt for a in log] == ["boom", None, "thanks"]
    assert log[1].error == "timed out after 0.5 s" and (log[1].latency_ms or 0) >= 450
    # The same bytes every time, each signed afresh at its attempt's time.
    bodies = receiver.bodies()
    assert bodies[0] == bodies[1] == bodies[2]
    for request, at in zip(receiver.received, (t0, t1, t2), strict=True):
        header = request.headers["payportal-signature"]
        assert signature_time(header) == int(at.timestamp())
        assert readme_verifier(at=at.timestamp())(request.body, header, secret)


def test_signature_body_and_headers_follow_the_documented_scheme(scope: Scope, receiver: Receiver):
    now = utcnow()
    _, delivery_id, secret = pending_one(scope, receiver.url, now)
    assert webhook_delivery.deliver(delivery_id, now=now) is not None
    request = receiver.received[0]
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created", "livemode", "data"}
    assert (body["type"], body["livemode"], body["data"]["amount"]) == (
        "payment.succeeded",
        False,
        1234,
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["payportal-delivery-id"] == delivery_id

    header = request.headers["payportal-signature"]
    t = signature_time(header)
    expected = hmac.new(secret.encode(), f"{t}.".encode() + request.body, hashlib.sha256)
    assert header == f"t={t},v1={expected.hexdigest()}"

    verify = readme_verifier()  # the receiver's real clock
    assert verify(request.body, header, secret)
    assert not verify(request.body + b" ", header, secret)  # tampered body
    assert not verify(request.body, header, "whsec_" + "x" * 32)  # another secret
    assert not verify(request.body, header.split(",")[1], secret)  # no timestamp
    assert not verify(request.body, f"t={t}", secret)  # no signature
    assert not readme_verifier(at=t + 301)(request.body, header, secret)  # a replay, later


def test_three_days_of_failures_follow_the_nominal_schedule_then_fail_and_email_the_owner(
    scope: Scope, shop: Merchant, receiver: Receiver, no_jitter: None
):
    receiver.default = Reply(503, b"down")
    t0 = utcnow()
    endpoint_id, delivery_id, _ = pending_one(scope, receiver.url, t0)
    now, times = t0, []
    while (result := webhook_delivery.deliver(delivery_id, now=now)) is not None:
        times.append(now)
        if result.next_attempt_at is None:
            break
        now = result.next_attempt_at

    minutes = [0, 1, 6, 36, 156, 456, 1056, 1656, 2256, 2976, 3696, 4320]  # 4320 = 3 days
    assert times == [t0 + timedelta(minutes=m) for m in minutes]
    assert len(receiver.received) == len(minutes)
    delivery = load(delivery_id)
    assert (delivery.status, delivery.next_attempt_at, delivery.last_status_code) == (
        "failed",
        None,
        503,
    )
    [failed_mail] = emails(shop.merchant_id, "webhook_delivery_failed")
    assert failed_mail.to_email.startswith("owner-") and failed_mail.status == "sent"
    assert endpoint_id in failed_mail.subject and failed_mail.provider == "sandbox"
    # Failing since the first attempt, three days ago: the endpoint is disabled too.
    endpoint = endpoint_row(endpoint_id)
    assert endpoint.status == "disabled" and "3 days" in (endpoint.disabled_reason or "")
    assert len(emails(shop.merchant_id, "webhook_endpoint_disabled")) == 1


@pytest.mark.parametrize("failures", range(1, 20))
def test_each_wait_is_its_step_shortened_by_at_most_half(
    failures: int, monkeypatch: pytest.MonkeyPatch
):
    created = now = datetime(2030, 1, 1, tzinfo=utcnow().tzinfo)
    step = webhook_schedule.BACKOFF[min(failures, len(webhook_schedule.BACKOFF)) - 1]
    for draw, wait in ((0.0, step), (0.5, step * 0.75), (1.0, step / 2)):
        monkeypatch.setattr(webhook_schedule, "jitter_source", lambda draw=draw: draw)
        assert webhook_schedule.next_attempt_at(created, failures, now) == now + wait
    late = created + timedelta(days=3) - timedelta(seconds=10)
    assert webhook_schedule.next_attempt_at(created, failures, late) == created + timedelta(days=3)
    assert webhook_schedule.next_attempt_at(created, failures, created + timedelta(days=3)) is None


def test_the_failure_email_goes_at_most_once_a_day_per_endpoint(
    scope: Scope, shop: Merchant, receiver: Receiver
):
    receiver.default = Reply(500)
    endpoint, _ = make_endpoint(scope, receiver.url)
    t0 = utcnow()
    emit(scope)
    emit(scope)
    dispatch(t0)
    deadline = t0 + timedelta(days=3)
    for delivery in deliveries_of(endpoint.id):  # both expire at once: one e-mail
        result = webhook_delivery.deliver(delivery.id, now=deadline)
        assert result is not None and result.status == "failed"
    assert len(emails(shop.merchant_id, "webhook_delivery_failed")) == 1
    emit(scope)
    dispatch(t0 + timedelta(days=1, seconds=1))
    late = max(deliveries_of(endpoint.id), key=lambda d: d.created_at)
    assert (
        webhook_delivery.deliver(late.id, now=deadline + timedelta(days=1, seconds=1)) is not None
    )
    assert len(emails(shop.merchant_id, "webhook_delivery_failed")) == 2
    assert endpoint_row(endpoint.id).status == "enabled"  # failing for one day only


def test_an_endpoint_failing_for_three_days_is_disabled_and_a_success_resets_the_clock(
    scope: Scope, shop: Merchant, receiver: Receiver
):
    endpoint, _ = make_endpoint(scope, receiver.url)
    t0 = utcnow()

    def new_delivery(at: datetime) -> str:
        emit(scope)
        dispatch(at)
        return max(deliveries_of(endpoint.id), key=lambda d: d.id).id

    receiver.script(Reply(500))
    a = new_delivery(t0)
    webhook_delivery.deliver(a, now=t0)
    row = endpoint_row(endpoint.id)
    assert (row.failing_since, row.consecutive_failures, row.last_success_at) == (t0, 1, None)
    receiver.script(Reply(200))
    b = new_delivery(t0 + timedelta(days=1))
    webhook_delivery.deliver(b, now=t0 + timedelta(days=1))
    row = endpoint_row(endpoint.id)  # a success clears the failures
    assert (row.failing_since, row.consecutive_failures) == (None, 0)
    assert row.last_success_at == t0 + timedelta(days=1)

    c_at = t0 + timedelta(days=1, hours=1)
    receiver.script(Reply(500), Reply(500))
    c = new_delivery(c_at)
    webhook_delivery.deliver(c, now=c_at)
    d_at = c_at + timedelta(days=3)
    d = new_delivery(d_at)
    result = webhook_delivery.deliver(d, now=d_at)
    assert result is not None and result.status == "failed"

    row = endpoint_row(endpoint.id)
    assert (row.status, row.failing_since, row.consecutive_failures) == ("disabled", c_at, 2)
    assert "failed continuously for 3 days" in (row.disabled_reason or "")
    assert len(emails(shop.merchant_id, "webhook_endpoint_disabled")) == 1
    # What was still waiting fails; nothing more is sent or fanned out while disabled.
    assert {load(x).status for x in (a, c, d)} == {"failed"}
    assert load(a).last_error == "endpoint disabled"
    sent = len(receiver.received)
    assert webhook_delivery.deliver(a, now=d_at + timedelta(days=1)) is None
    emit(scope)
    dispatch(d_at)
    assert len(deliveries_of(endpoint.id)) == 4 and len(receiver.received) == sent

    # Enabled again and the failed ones redelivered: all arrive.
    later = d_at + timedelta(hours=1)
    with session_scope() as db:
        webhook_endpoints.update_endpoint(db, scope, endpoint.id, disabled=False, now=later)
        assert webhook_deliveries.redeliver_failed(db, scope, endpoint.id, t0, now=later) == 3
    row = endpoint_row(endpoint.id)
    assert (row.failing_since, row.consecutive_failures) == (None, 0)
    assert row.last_success_at == t0 + timedelta(days=1)
    for x in (a, c, d):
        result = webhook_delivery.deliver(x, now=later)
        assert result is not None and result.status == "succeeded"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> threading.Event:
    """The receiver's next answer waits for this event (set it to answer 200)."""
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "5")  # the held attempt must not time out
    reread_settings()
    gate = threading.Event()
    receiver.script(Reply(200, gate=gate))
    return gate


def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError("timed out waiting")


def test_two_workers_racing_on_one_delivery_send_it_once(
    scope: Scope, receiver: Receiver, held: threading.Event
):
    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    start = threading.Barrier(2)
    results: list[Any] = []

    def worker() -> None:
        start.wait()
        results.append(webhook_delivery.deliver(delivery_id, now=now))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:  # one worker gives up while the other is sending
        wait_until(lambda: len(results) == 1 and len(receiver.received) == 1)
        assert results == [None]
    finally:
        held.set()
        for thread in threads:
            thread.join()
    assert results[1] is not None and results[1].status == "succeeded"
    assert len(receiver.received) == 1
    assert [a.status_code for a in attempts_of(delivery_id)] == [200]
    assert load(delivery_id).status == "succeeded"


def test_a_redelivery_during_a_successful_attempt_sends_nothing_more(
    scope: Scope, receiver: Receiver, held: threading.Event
):
    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    in_flight = threading.Thread(
        target=webhook_delivery.deliver, args=(delivery_id,), kwargs={"now": now}
    )
    in_flight.start()
    try:
        wait_until(lambda: bool(receiver.received))  # the attempt has reached the receiver
        with session_scope() as db:
            webhook_deliveries.redeliver(db, scope, delivery_id, now=now)  # still pending: accepted
        assert webhook_delivery.deliver(delivery_id, now=now) is None  # the lease is held
    finally:
        held.set()
        in_flight.join()
    assert load(delivery_id).status == "succeeded"
    assert webhook_delivery.deliver(delivery_id, now=now + timedelta(minutes=5)) is None
    assert len(receiver.received) == 1


def test_a_dead_workers_lease_expires_and_its_late_result_changes_nothing(
    scope: Scope, receiver: Receiver
):
    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    job = webhook_delivery.claim(delivery_id, now)  # a worker claims it, then dies
    assert job is not None
    with session_scope(readonly=True) as db:
        assert delivery_id not in webhook_delivery.due_deliveries(
            db, now=now + timedelta(seconds=30)
        )
        assert delivery_id in webhook_delivery.due_deliveries(db, now=now + timedelta(seconds=61))
    result = webhook_delivery.deliver(delivery_id, now=now + timedelta(seconds=61))
    assert result is not None and result.status == "succeeded"
    # The first worker comes back with a 500 it got long ago: logged, but it changes nothing.
    webhook_delivery.record(job, webhook_sending.Response(500, 10, "old", None), now)
    delivery = load(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    assert delivery.next_attempt_at is None and delivery.locked_until is None
    assert sorted(a.status_code or 0 for a in attempts_of(delivery_id)) == [200, 500]


def test_a_rolled_secret_signs_beside_the_new_one_until_it_expires(
    scope: Scope, receiver: Receiver
):
    endpoint, old_secret = make_endpoint(scope, receiver.url)
    now = utcnow()
    with session_scope() as db:
        rolled = webhook_endpoints.roll_secret(db, scope, endpoint.id, overlap_hours=24, now=now)
    new_secret = rolled.secret
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    assert rolled.endpoint.previous_secret_expires_at == now + timedelta(hours=24)

    emit(scope)
    emit(scope)
    dispatch(now)
    during, after = deliveries_of(endpoint.id)
    webhook_delivery.deliver(during.id, now=now + timedelta(hours=23))
    webhook_delivery.deliver(after.id, now=now + timedelta(hours=25))
    (body1, header1), (body2, header2) = [
        (r.body, r.headers["payportal-signature"]) for r in receiver.received
    ]
    assert header1.count("v1=") == 2 and header2.count("v1=") == 1
    verify1 = readme_verifier(at=signature_time(header1))
    verify2 = readme_verifier(at=signature_time(header2))
    assert verify1(body1, header1, old_secret) and verify1(body1, header1, new_secret)
    assert verify2(body2, header2, new_secret) and not verify2(body2, header2, old_secret)

    with session_scope() as db:  # no overlap: only the newest secret signs
        latest = webhook_endpoints.roll_secret(db, scope, endpoint.id, overlap_hours=0).secret
        assert webhook_endpoints.signing_secrets(db.get(WebhookEndpoint, endpoint.id), now) == [
            latest
        ]
        with pytest.raises(ValidationFailed):
            webhook_endpoints.roll_secret(db, scope, endpoint.id, overlap_hours=24 * 8)
    stored = endpoint_row(endpoint.id)
    assert latest not in stored.secret_encrypted and stored.secret_encrypted.startswith("gAAAA")


def test_an_undecryptable_secret_is_a_failed_attempt_not_a_crash(
    scope: Scope, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    from cryptography.fernet import Fernet

    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    monkeypatch.setenv("ENCRYPTION_KEY", Fernet.generate_key().decode())  # the key was changed
    reread_settings()
    result = webhook_delivery.deliver(delivery_id, now=now)
    assert result is not None and result.status == "pending"
    assert "cannot decrypt" in (result.error or "") and receiver.received == []


# --- server-side request forgery -------------------------------------------------------------


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names in the returned dict resolve to its addresses; anything else resolves for real."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port),
                )
                for ip in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


LIVE_REFUSED = [
    "https://10.0.0.1/hook",
    "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://localhost/hook",  # a name resolving to loopback
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://100.64.0.1/hook",
    "https://192.168.1.10:8443/hook",
    "https://[fd00::1]/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://internal.example.com/hook",  # resolves to a private address
    "https://mixed.example.com/hook",  # one public, one private address
    "http://hooks.example.com/hook",  # public, but not https
    "https://user:pass@hooks.example.com/hook",
    "ftp://hooks.example.com/hook",
    "https://hooks.example.com/hook#x",
    "https://no-such-host.invalid/hook",
    "https://bad_host!.example.com/",
    "not a url",
]


@pytest.mark.parametrize("url", LIVE_REFUSED)
def test_live_mode_refuses_urls_that_do_not_reach_a_public_https_address(
    url: str, outbound: str, fake_dns: dict[str, list[str]]
):
    fake_dns.update(
        {
            "internal.example.com": ["10.1.2.3"],
            "mixed.example.com": ["93.184.215.14", "192.168.0.5"],
            "hooks.example.com": ["93.184.215.14"],
            "no-such-host.invalid": [],
        }
    )
    with pytest.raises(ValidationFailed) as refused:
        webhook_urls.check_url(url, livemode=True)
    assert refused.value.param == "url"
    assert webhook_urls.check_url("https://hooks.example.com/hook", livemode=True) == (
        "93.184.215.14"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/hook", True),
        ("http://[::1]:8080/hook", True),
        ("http://localhost:8080/hook", True),
        ("https://10.0.0.1/hook", False),  # only loopback is relaxed
        ("https://169.254.169.254/", False),
        ("http://10.0.0.1/hook", False),
    ],
)
def test_the_loopback_setting_relaxes_loopback_only_and_only_in_test_mode(
    url: str, allowed: bool, outbound: str
):
    if allowed:
        assert webhook_urls.check_url(url, livemode=False)
    else:
        with pytest.raises(ValidationFailed):
            webhook_urls.check_url(url, livemode=False)
    with pytest.raises(ValidationFailed):
        webhook_urls.check_url(url, livemode=True)


def test_without_the_setting_test_mode_refuses_loopback(outbound: str, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "false")
    reread_settings()
    with pytest.raises(ValidationFailed):
        webhook_urls.check_url("http://127.0.0.1:8080/hook", livemode=False)


def test_the_setting_is_ignored_and_refused_in_production(outbound: str, monkeypatch):  # type: ignore[no-untyped-def]
    from backend.core.config import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-private-production-secret-0123456789")
    reread_settings()
    with pytest.raises(ValidationFailed):
        webhook_urls.check_url("http://127.0.0.1:8080/hook", livemode=False)
    with pytest.raises(RuntimeError, match="WEBHOOKS_ALLOW_LOOPBACK"):
        get_settings().check_production_ready()


def test_addresses_are_checked_again_at_delivery_time(
    scope: Scope, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "false")  # say, DNS now points inside
    reread_settings()
    result = webhook_delivery.deliver(delivery_id, now=now)
    assert result is not None and result.status == "pending"
    assert (result.error or "").startswith("refused: localhost URLs are accepted")
    assert [a.error_code for a in attempts_of(delivery_id)] == ["address_refused"]
    assert receiver.received == []


def test_a_name_that_rebinds_to_a_private_address_is_refused_at_delivery(
    outbound: str, shop: Merchant, fake_dns: dict[str, list[str]]
):
    live = Scope(shop.merchant_id, livemode=True)
    fake_dns["hooks.example.com"] = ["93.184.215.14"]
    now = utcnow()
    _, delivery_id, _ = pending_one(live, "https://hooks.example.com/hook", now)
    fake_dns["hooks.example.com"] = ["169.254.169.254"]
    result = webhook_delivery.deliver(delivery_id, now=now)
    assert result is not None and "169.254.169.254" in (result.error or "")
    [attempt] = attempts_of(delivery_id)
    assert attempt.status_code is None and (attempt.error or "").startswith("refused:")


def test_requests_go_to_the_checked_address_with_the_urls_host_header(
    scope: Scope, receiver: Receiver
):
    now = utcnow()
    url = f"http://localhost:{receiver.port}/hook"  # resolves to ::1 and 127.0.0.1
    _, delivery_id, _ = pending_one(scope, url, now)
    result = webhook_delivery.deliver(delivery_id, now=now)
    assert result is not None and result.status == "succeeded"
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"


def test_redirects_are_not_followed(scope: Scope, receiver: Receiver):
    with Receiver() as elsewhere:
        receiver.script(Reply(302, b"", headers={"Location": elsewhere.url}))
        now = utcnow()
        _, delivery_id, _ = pending_one(scope, receiver.url, now)
        result = webhook_delivery.deliver(delivery_id, now=now)
        assert result is not None and (result.status, result.status_code) == ("pending", 302)
        assert result.error == "redirects are not followed"
        assert elsewhere.received == []


def test_only_the_first_two_kilobytes_of_a_response_are_kept(scope: Scope, receiver: Receiver):
    receiver.script(Reply(200, "é".encode() * 4000))
    now = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, now)
    webhook_delivery.deliver(delivery_id, now=now)
    [attempt] = attempts_of(delivery_id)
    assert attempt.response_excerpt == "é" * 1024


# --- fan-out from the outbox -------------------------------------------------------------------


def test_fan_out_reaches_only_subscribed_enabled_endpoints_of_the_same_merchant_and_mode(
    outbound: str, client: TestClient, fake_dns: dict[str, list[str]]
):
    fake_dns["hooks.example.com"] = ["93.184.215.14"]
    a, b = new_merchant(client, "A"), new_merchant(client, "B")
    a_test, a_live, b_test = (
        Scope(a.merchant_id, False),
        Scope(a.merchant_id, True),
        Scope(b.merchant_id, False),
    )
    url = "http://127.0.0.1:9/hook"
    payments_only, _ = make_endpoint(a_test, url, ["payment.succeeded"])
    everything, _ = make_endpoint(a_test, url, ["*"])
    disputes_only, _ = make_endpoint(a_test, url, ["dispute.created", "dispute.closed"])
    disabled, _ = make_endpoint(a_test, url, ["*"])
    with session_scope() as db:
        webhook_endpoints.update_endpoint(db, a_test, disabled.id, disabled=True)
    live, _ = make_endpoint(a_live, "https://hooks.example.com/hook", ["*"])
    other_merchant, _ = make_endpoint(b_test, url, ["*"])

    paid = emit(a_test, "payment.succeeded")
    disputed = emit(a_test, "dispute.created")
    refunded = emit(a_test, "payment.refunded")
    late, _ = make_endpoint(a_test, url, ["*"])  # registered after those events
    dispatch()

    def received(endpoint: WebhookEndpoint) -> set[str]:
        return {d.event_id for d in deliveries_of(endpoint.id)}

    assert received(payments_only) == {paid}
    assert received(everything) == {paid, disputed, refunded}
    assert received(disputes_only) == {disputed}
    assert received(disabled) == received(live) == received(other_merchant) == set()
    assert received(late) == set()
    with session_scope(readonly=True) as db:
        for event_id in (paid, disputed, refunded):
            assert db.get(DomainEvent, event_id).dispatched_at is not None  # type: ignore[union-attr]
    dispatch()  # each event is fanned out once
    assert len(deliveries_of(everything.id)) == 3


def test_concurrent_dispatchers_fan_each_event_out_once(scope: Scope, receiver: Receiver):
    endpoint, _ = make_endpoint(scope, receiver.url)
    for _ in range(40):
        emit(scope)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def dispatcher() -> None:
        start.wait()
        try:
            while True:
                with session_scope() as db:
                    if not webhook_fanout.dispatch_outbox(db, limit=5).events:
                        return
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(deliveries_of(endpoint.id)) == 40


def test_a_real_charge_writes_events_that_survive_a_crash_and_are_delivered_later(
    shop: Merchant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    from backend.tasks import outbound

    # The process dies right after the payment commits, before it can enqueue the dispatch.
    monkeypatch.setattr(outbound, "enqueue_dispatch", lambda: None)
    created = shop.post(
        "/api/webhook_endpoints",
        {"url": receiver.url, "enabledEvents": ["payment.succeeded"]},
    )
    assert created.status_code == 201, created.text
    secret, endpoint_id = created.json()["secret"], created.json()["endpoint"]["id"]
    charged = shop.charge(amount=4200)
    assert charged.status_code == 201, charged.text
    payment_id = charged.json()["payment"]["id"]

    def outbox() -> list[DomainEvent]:
        with session_scope(readonly=True) as db:
            query = select(DomainEvent).where(DomainEvent.merchant_id == shop.merchant_id)
            return list(db.exec(query).all())

    # Committed with the payment, not yet dispatched: a crash now loses nothing.
    assert {(e.type, e.dispatched_at) for e in outbox()} >= {("payment.succeeded", None)}
    # A dispatcher that dies before committing leaves the outbox as it was.
    with pytest.raises(RuntimeError), session_scope() as db:
        assert webhook_fanout.dispatch_outbox(db, limit=100_000).deliveries
        raise RuntimeError("the worker dies here")
    assert deliveries_of(endpoint_id) == []
    assert all(e.dispatched_at is None for e in outbox())

    outbound.dispatch_outbox()  # the task; inline here (MemoryHuey, immediate)
    [request] = receiver.received
    body = json.loads(request.body)
    payment = body["data"]["payment"]
    assert (body["type"], payment["id"], payment["totalAmount"]) == (
        "payment.succeeded",
        payment_id,
        4200,
    )
    assert readme_verifier()(request.body, request.headers["payportal-signature"], secret)
    assert only_delivery(endpoint_id).status == "succeeded"
    assert all(e.dispatched_at is not None for e in outbox())
    outbound.dispatch_outbox()
    outbound.sweep()
    assert len(receiver.received) == 1


# --- the REST API ----------------------------------------------------------------------------


def test_endpoint_api_round_trip_with_test_event_log_and_redelivery(
    shop: Merchant, client: TestClient, receiver: Receiver
):
    created = shop.post(
        "/api/webhook_endpoints",
        {"url": receiver.url, "enabledEvents": ["*"], "description": "orders"},
        key="create-1",
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()["endpoint"]
    secret = created.json()["secret"]
    schemas.EndpointWithSecret.model_validate(created.json(), strict=True)
    assert secret.startswith("whsec_") and endpoint["status"] == "enabled"
    again = shop.post(
        "/api/webhook_endpoints",
        {"url": receiver.url, "enabledEvents": ["*"], "description": "orders"},
        key="create-1",
    )
    assert again.json()["endpoint"]["id"] == endpoint["id"]  # idempotent
    assert again.json()["secret"] == secret
    with session_scope(readonly=True) as db:  # the replayable answer keeps no readable secret
        stored = db.exec(
            select(IdempotencyKey.response_body).where(IdempotencyKey.key == "create-1")
        ).one()
    assert secret not in stored and "whsec_" not in stored
    listed = shop.get("/api/webhook_endpoints").json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    fetched = shop.get(f"/api/webhook_endpoints/{endpoint['id']}").json()
    schemas.EndpointEnvelope.model_validate(fetched, strict=True)
    assert "secret" not in fetched and "secret" not in listed[0]  # shown once only

    # A test event, to this endpoint alone, delivered at once (tasks run inline here).
    other = shop.post("/api/webhook_endpoints", {"url": receiver.url, "enabledEvents": ["*"]})
    tested = shop.post(f"/api/webhook_endpoints/{endpoint['id']}/test")
    assert tested.status_code == 200, tested.text
    [request] = receiver.received
    assert json.loads(request.body)["type"] == "webhook.test"
    assert readme_verifier()(request.body, request.headers["payportal-signature"], secret)
    dispatch()  # the test event is already routed: never fanned out to the others
    assert deliveries_of(other.json()["endpoint"]["id"]) == []
    assert len(receiver.received) == 1

    # A failing test event, redelivered by hand.
    receiver.script(Reply(500, b"nope"))
    failing = shop.post(f"/api/webhook_endpoints/{endpoint['id']}/test").json()["delivery"]
    assert load(failing["id"]).status == "pending"
    redelivered = shop.post(f"/api/webhook_deliveries/{failing['id']}/redeliver")
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["delivery"]["eventType"] == "webhook.test"
    schemas.DeliveryEnvelope.model_validate(redelivered.json(), strict=True)
    assert load(failing["id"]).status == "succeeded"
    refused = shop.post(f"/api/webhook_deliveries/{failing['id']}/redeliver")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "delivery_succeeded"

    log = shop.get(f"/api/webhook_endpoints/{endpoint['id']}/deliveries?limit=1").json()
    schemas.DeliveryLog.model_validate(log, strict=True)
    [newest] = log["deliveries"]
    assert newest["id"] == failing["id"] and log["nextCursor"] == failing["id"]
    assert [a["statusCode"] for a in newest["attempts"]] == [500, 200]
    assert newest["attempts"][0]["responseExcerpt"] == "nope"
    assert all(a["latencyMs"] is not None for a in newest["attempts"])
    older = shop.get(
        f"/api/webhook_endpoints/{endpoint['id']}/deliveries?limit=5&cursor={log['nextCursor']}"
    ).json()
    assert [d["id"] for d in older["deliveries"]] == [tested.json()["delivery"]["id"]]
    assert older["nextCursor"] is None

    # Failed deliveries since a time, redelivered in one call.
    with session_scope() as db:
        db.exec(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.endpoint_id) == endpoint["id"])
            .values(status="failed", next_attempt_at=None)
        )
    since = (utcnow() - timedelta(hours=1)).isoformat()
    bulk = shop.post(f"/api/webhook_endpoints/{endpoint['id']}/redeliver_failed", {"since": since})
    assert bulk.status_code == 200 and bulk.json()["redelivered"] == 2, bulk.text
    schemas.Redelivered.model_validate(bulk.json(), strict=True)
    assert {d.status for d in deliveries_of(endpoint["id"])} == {"succeeded"}

    # Update, roll, delete.
    updated = shop.post(
        f"/api/webhook_endpoints/{endpoint['id']}",
        {"enabledEvents": ["payment.failed", "payment.succeeded"], "disabled": True},
    ).json()["endpoint"]
    assert updated["enabledEvents"] == ["payment.failed", "payment.succeeded"]
    assert updated["status"] == "disabled"
    assert shop.post(f"/api/webhook_endpoints/{endpoint['id']}/test").status_code == 409
    rolled = shop.post(
        f"/api/webhook_endpoints/{endpoint['id']}/roll_secret", {"expiresInHours": 2}
    ).json()
    assert rolled["secret"] != secret and rolled["endpoint"]["previousSecretExpiresAt"]
    deleted = client.delete(f"/api/webhook_endpoints/{endpoint['id']}", headers=shop.headers())
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    schemas.Deleted.model_validate(deleted.json(), strict=True)
    assert shop.get(f"/api/webhook_endpoints/{endpoint['id']}").status_code == 404
    assert deliveries_of(endpoint["id"]) == []


def test_another_merchants_endpoints_and_deliveries_are_not_found(
    shop: Merchant, client: TestClient, receiver: Receiver
):
    endpoint_id, delivery_id, _ = pending_one(
        Scope(shop.merchant_id, False), receiver.url, utcnow()
    )
    intruder = new_merchant(client, "Intruder")
    for response in (
        intruder.get(f"/api/webhook_endpoints/{endpoint_id}"),
        intruder.get(f"/api/webhook_endpoints/{endpoint_id}/deliveries"),
        intruder.post(f"/api/webhook_endpoints/{endpoint_id}", {"description": "mine"}),
        intruder.post(f"/api/webhook_endpoints/{endpoint_id}/roll_secret"),
        intruder.post(f"/api/webhook_endpoints/{endpoint_id}/test"),
        intruder.post(
            f"/api/webhook_endpoints/{endpoint_id}/redeliver_failed",
            {"since": "2020-01-01T00:00:00Z"},
        ),
        intruder.post(f"/api/webhook_deliveries/{delivery_id}/redeliver"),
        client.delete(f"/api/webhook_endpoints/{endpoint_id}", headers=intruder.headers()),
    ):
        assert response.status_code == 404, response.text
    assert intruder.get("/api/webhook_endpoints").json()["endpoints"] == []
    live = Scope(shop.merchant_id, True)  # the same merchant's other mode sees nothing either
    with pytest.raises(NotFound), session_scope(readonly=True) as db:
        webhook_endpoints.get_endpoint(db, live, endpoint_id)
    assert receiver.received == []


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"url": "https://169.254.169.254/", "enabledEvents": ["*"]}, 422, "url"),
        ({"url": "http://10.0.0.1/", "enabledEvents": ["*"]}, 422, "url"),
        ({"url": "https://localhost/", "enabledEvents": ["nope.event"]}, 422, "enabledEvents"),
        ({"url": "https://localhost/", "enabledEvents": ["webhook.test"]}, 422, "enabledEvents"),
        ({"url": "https://localhost/", "enabledEvents": []}, 400, "enabledEvents"),
        ({"url": "https://localhost/"}, 400, "enabledEvents"),
        ({"url": 5, "enabledEvents": ["*"]}, 400, "url"),
        ({"url": "https://localhost/", "enabledEvents": ["*"], "extra": 1}, 400, "extra"),
    ],
)
def test_bad_endpoint_input_is_a_clear_error(
    shop: Merchant, body: dict[str, Any], status: int, param: str
):
    response = shop.post("/api/webhook_endpoints", body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_at_most_sixteen_endpoints_per_mode(scope: Scope, receiver: Receiver):
    for _ in range(webhook_endpoints.MAX_ENDPOINTS):
        make_endpoint(scope, receiver.url)
    with pytest.raises(ValidationFailed) as refused:
        make_endpoint(scope, receiver.url)
    assert refused.value.code == "endpoint_limit_reached"


# --- the jobs ------------------------------------------------------------------------------


def test_the_tick_dispatches_and_sweeps_and_a_newer_chain_replaces_an_older_one(
    scope: Scope, receiver: Receiver
):
    from backend.core.jobs import huey
    from backend.tasks import outbound

    endpoint, _ = make_endpoint(scope, receiver.url)
    emit(scope)
    first = outbound.start_ticking()  # runs one tick inline, schedules the next
    assert only_delivery(endpoint.id).status == "succeeded"
    assert any(t.name.endswith("tick") for t in huey.scheduled())
    second = outbound.start_ticking()
    emit(scope)
    outbound.tick(first)  # superseded: does nothing
    assert len(deliveries_of(endpoint.id)) == 1
    outbound.tick(second)
    assert len(deliveries_of(endpoint.id)) == 2 and len(receiver.received) == 2

    outbound.watchdog()  # the chain is alive: left alone
    assert huey.get(outbound._CHAIN_KEY, peek=True) == second
    huey.put(outbound._LAST_TICK_KEY, 0.0)  # no tick for a long time: a new chain starts
    outbound.watchdog()
    assert huey.get(outbound._CHAIN_KEY, peek=True) not in (None, second)


# --- the OpenAPI contract ----------------------------------------------------------------------


def test_webhook_routes_conform_to_their_openapi_schema(
    _migrated_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Schemathesis over the webhook operations: no 500, no undocumented status or shape.
    Hermetic: names resolve to nothing, loopback is refused, and no request leaves."""
    import shutil

    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from backend.core.jobs import huey

    shutil.copyfile(_migrated_sqlite_template, tmp_path / "contract.db")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'contract.db'}")
    monkeypatch.setenv("JOBS_BACKEND", "memory")
    monkeypatch.setenv("APP_ENV", "test")  # development would accept localhost endpoints
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setattr(huey, "immediate", True)

    def no_dns(host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "no DNS in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(
        webhook_sending, "post", lambda *args: webhook_sending.Response(200, 1, "ok", None)
    )
    _reset_caches()
    try:
        app = build_app()
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        key = new_merchant(TestClient(app)).key
        checks = [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
        operations = [
            result.ok() for result in schema.get_all_operations() if "/webhook_" in result.ok().path
        ]
        assert len(operations) == 10
        for operation in operations:

            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def check(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=checks)

            check()
    finally:
        from backend.core.db import get_engine

        get_engine().dispose()
        _reset_caches()
