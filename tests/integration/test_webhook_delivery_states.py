"""Outbound webhooks as merchants read them, on SQLite and PostgreSQL: delivery states and plain
reasons (from real failures against local servers), endpoint health, attempts that never loop,
URLs refused at creation, and localhost endpoints on a development server."""

from __future__ import annotations

import socket
import ssl
from datetime import timedelta
from typing import Any

import pytest
import trustme
from sqlalchemy import update
from sqlmodel import col

from backend.api.input_hygiene import text_problem
from backend.api.routes import webhook_endpoints as schemas
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import WebhookEndpoint, utcnow
from backend.services.context import Scope
from backend.services.representations import timestamp
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import delivery as webhook_delivery
from backend.services.webhooks.outbound import endpoints as webhook_endpoints
from backend.services.webhooks.outbound import signing as webhook_signing
from backend.services.webhooks.outbound import urls as webhook_urls
from tests.fakes.receiver import Hang, Receiver, Reply
from tests.integration import test_webhooks_outbound as base
from tests.integration.api_client import Merchant
from tests.integration.test_webhooks_outbound import (
    attempts_of,
    load,
    pending_one,
    reread_settings,
)

# The outbound tests' fixtures, shared (pytest finds fixtures by their names in this module).
outbound, client, shop, scope, receiver = (
    base.outbound,
    base.client,
    base.shop,
    base.scope,
    base.receiver,
)
no_jitter, fake_dns = base.no_jitter, base.fake_dns


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_of(shop: Merchant, endpoint_id: str) -> list[dict[str, Any]]:
    response = shop.get(f"/api/webhook_endpoints/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    schemas.DeliveryLog.model_validate(response.json(), strict=True)
    return response.json()["deliveries"]


def endpoint_json(shop: Merchant, endpoint_id: str) -> dict[str, Any]:
    response = shop.get(f"/api/webhook_endpoints/{endpoint_id}")
    schemas.EndpointEnvelope.model_validate(response.json(), strict=True)
    return response.json()["endpoint"]


# --- states, in the API ------------------------------------------------------------------------


def test_a_delivery_is_pending_then_retrying_then_succeeded_and_the_endpoint_health_follows(
    shop: Merchant, scope: Scope, receiver: Receiver, no_jitter: None
):
    receiver.script(Reply(500, b"boom"), Reply(503))
    t0 = utcnow()
    endpoint_id, delivery_id, _ = pending_one(scope, receiver.url, t0)
    [pending] = log_of(shop, endpoint_id)
    assert (pending["status"], pending["attempt"], pending["maxAttempts"]) == ("pending", 0, 12)
    assert pending["reason"] is None and pending["reasonCode"] is None
    assert endpoint_json(shop, endpoint_id)["consecutiveFailures"] == 0

    webhook_delivery.deliver(delivery_id, now=t0)
    [retrying] = log_of(shop, endpoint_id)
    assert (retrying["status"], retrying["attempt"], retrying["maxAttempts"]) == ("retrying", 1, 12)
    assert retrying["nextAttemptAt"] == timestamp(t0 + timedelta(minutes=1))
    assert retrying["reasonCode"] == "http_status"
    assert retrying["reason"] == "Answered 500 Internal Server Error"
    [attempt] = retrying["attempts"]
    assert attempt["reason"] == "Answered 500 Internal Server Error"
    assert attempt["responseExcerpt"] == "boom"  # the technical detail stays available
    assert retrying["attemptCount"] == 1 and retrying["lastStatusCode"] == 500  # old fields kept

    webhook_delivery.deliver(delivery_id, now=t0 + timedelta(minutes=1))
    health = endpoint_json(shop, endpoint_id)
    assert health["consecutiveFailures"] == 2 and health["lastSuccessAt"] is None
    assert health["failingSince"] is not None
    [twice] = log_of(shop, endpoint_id)
    assert (twice["attempt"], twice["reason"]) == (2, "Answered 503 Service Unavailable")

    webhook_delivery.deliver(delivery_id, now=t0 + timedelta(minutes=6))
    [done] = log_of(shop, endpoint_id)
    assert (done["status"], done["attempt"], done["maxAttempts"]) == ("succeeded", 3, 3)
    assert done["reason"] is None and done["nextAttemptAt"] is None
    assert [a["reasonCode"] for a in done["attempts"]] == ["http_status", "http_status", None]
    health = endpoint_json(shop, endpoint_id)
    assert health["consecutiveFailures"] == 0 and health["failingSince"] is None
    assert health["lastSuccessAt"] is not None


def test_a_delivery_that_runs_out_of_time_is_failed_with_its_last_reason(
    shop: Merchant, scope: Scope, no_jitter: None
):
    url = f"http://127.0.0.1:{closed_port()}/hook"
    t0 = utcnow()
    endpoint_id, delivery_id, _ = pending_one(scope, url, t0)
    now = t0
    while (result := webhook_delivery.deliver(delivery_id, now=now)) and result.next_attempt_at:
        now = result.next_attempt_at
    [failed] = log_of(shop, endpoint_id)
    assert (failed["status"], failed["attempt"], failed["maxAttempts"]) == ("failed", 12, 12)
    assert failed["reasonCode"] == "connection_refused"
    assert failed["reason"] == "Connection refused: nothing is listening at that address and port"
    assert "Connection refused" in failed["lastError"]  # the technical detail
    endpoint = endpoint_json(shop, endpoint_id)
    assert endpoint["consecutiveFailures"] == 12 and endpoint["status"] == "disabled"

    # Enabled and redelivered by hand: one more attempt, past the window, is all it gets.
    with session_scope() as db:
        webhook_endpoints.update_endpoint(db, scope, endpoint_id, disabled=False)
        webhook_deliveries.redeliver(db, scope, delivery_id, now=now)
    assert endpoint_json(shop, endpoint_id)["consecutiveFailures"] == 0  # a fresh start
    [again] = log_of(shop, endpoint_id)
    assert (again["status"], again["attempt"], again["maxAttempts"]) == ("retrying", 12, 13)


# --- plain reasons, from real failures ---------------------------------------------------------


@pytest.fixture(scope="module")
def untrusted_tls() -> ssl.SSLContext:
    """A server certificate for localhost from a CA that no trust store holds."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return context


def test_an_untrusted_certificate_is_said_so(
    scope: Scope, untrusted_tls: ssl.SSLContext, shop: Merchant
):
    with Receiver(tls=untrusted_tls) as hook:
        now = utcnow()
        endpoint_id, delivery_id, _ = pending_one(scope, hook.url, now)
        webhook_delivery.deliver(delivery_id, now=now)
        assert hook.received == []
    [attempt] = attempts_of(delivery_id)
    assert attempt.error_code == "tls_untrusted"
    assert "CERTIFICATE_VERIFY_FAILED" in (attempt.error or "")
    [logged] = log_of(shop, endpoint_id)
    assert logged["reason"].startswith("Certificate not trusted: it is not issued by a known")


def test_a_timeout_says_how_long_we_waited(scope: Scope, receiver: Receiver, shop: Merchant):
    receiver.script(Hang(3.0))
    now = utcnow()
    endpoint_id, delivery_id, _ = pending_one(scope, receiver.url, now)
    webhook_delivery.deliver(delivery_id, now=now)
    [logged] = log_of(shop, endpoint_id)
    assert logged["reasonCode"] == "timeout"
    assert logged["reason"] == "Timed out after 0.5 s without an answer"  # the configured time


def test_redirects_dns_failures_and_refused_addresses_have_their_reasons(
    shop: Merchant, receiver: Receiver, fake_dns: dict[str, list[str]]
):
    test, live = Scope(shop.merchant_id, False), Scope(shop.merchant_id, True)
    receiver.script(Reply(301, b"", headers={"Location": "https://elsewhere.example/"}))
    now = utcnow()
    _, moved, _ = pending_one(test, receiver.url, now)
    public = ["93.184.215.14"]
    fake_dns.update({"gone.example.com": public, "inside.example.com": public})
    _, gone, _ = pending_one(live, "https://gone.example.com/hook", now)
    _, inside, _ = pending_one(live, "https://inside.example.com/hook", now)
    fake_dns.update({"gone.example.com": [], "inside.example.com": ["10.0.0.7"]})
    for delivery_id in (moved, gone, inside):
        webhook_delivery.deliver(delivery_id, now=now)
    reasons = {
        d: (load(d).last_error_code, webhook_deliveries.delivery_state(load(d)).reason)
        for d in (moved, gone, inside)
    }
    assert reasons[moved] == (
        "redirect",
        "Answered 301 Moved Permanently: redirects are not followed, register the final URL",
    )
    assert reasons[gone] == ("dns_failure", "The host name could not be found (DNS)")
    assert reasons[inside] == (
        "address_refused",
        "Refused: the URL does not lead to a public https:// address",
    )
    assert "10.0.0.7" in (load(inside).last_error or "")


# --- one attempt, one outcome: never a loop ----------------------------------------------------


def test_a_url_with_control_characters_in_the_database_is_a_failed_attempt_on_schedule(
    scope: Scope, receiver: Receiver, no_jitter: None
):
    """A row written before URLs were checked (or by hand): the attempt fails and is retried
    on the schedule; the task returns normally instead of raising into the job runner."""
    from backend.tasks import outbound as tasks

    t0 = utcnow()
    endpoint_id, delivery_id, _ = pending_one(scope, receiver.url, t0)
    with session_scope() as db:
        db.exec(
            update(WebhookEndpoint)
            .where(col(WebhookEndpoint.id) == endpoint_id)
            .values(url=receiver.url + "/ne\nw\x01")  # PostgreSQL cannot store a NUL
        )
    result = webhook_delivery.deliver(delivery_id, now=t0)
    assert result is not None and result.status == "pending"
    assert result.next_attempt_at == t0 + timedelta(minutes=1)
    [attempt] = attempts_of(delivery_id)
    assert attempt.error_code == "invalid_url" and attempt.status_code is None
    delivery = load(delivery_id)
    assert (delivery.attempts, delivery.locked_until) == (1, None)
    assert webhook_deliveries.delivery_state(delivery).reason == (
        "The endpoint's URL is not valid: correct it"
    )
    # Through the job runner's task, with the delivery due again: no exception, one more try.
    with session_scope() as db:
        db.exec(
            update(type(delivery))
            .where(col(type(delivery).id) == delivery_id)
            .values(next_attempt_at=utcnow())
        )
    tasks.deliver(delivery_id)
    assert len(attempts_of(delivery_id)) == 2 and receiver.received == []


def test_an_exception_while_building_the_request_is_a_failed_attempt_and_the_schedule_ends(
    scope: Scope, receiver: Receiver, no_jitter: None, monkeypatch: pytest.MonkeyPatch
):
    def broken_signer(*args: object) -> str:
        raise RuntimeError("signer exploded")

    monkeypatch.setattr(webhook_signing, "sign", broken_signer)
    t0 = utcnow()
    _, delivery_id, _ = pending_one(scope, receiver.url, t0)
    now, attempts = t0, 0
    while (result := webhook_delivery.deliver(delivery_id, now=now)) is not None:
        attempts += 1
        if result.next_attempt_at is None:
            break
        now = result.next_attempt_at
    assert attempts == 12 and load(delivery_id).status == "failed"
    errors = {(a.error_code, a.error) for a in attempts_of(delivery_id)}
    assert errors == {("internal_error", "RuntimeError: signer exploded")}
    assert receiver.received == []


# --- URLs refused at creation ------------------------------------------------------------------


BAD_SUFFIXES = [
    " ",  # a trailing space: refused, never trimmed silently
    "/a b",
    "/a\tb",
    "/new\nline",
    "/nul\x00",
    "/bell\x07",
    "/del\x7f",
    "/zero\u200bwidth",
    "/nbsp\u00a0",
    "/<script>",
    '/"quoted"',
    "/back\\slash",
    "/bad%zzescape",
]


def test_urls_with_control_characters_or_whitespace_are_refused_with_422(
    shop: Merchant, receiver: Receiver
):
    created = shop.post("/api/webhook_endpoints", {"url": receiver.url, "enabledEvents": ["*"]})
    endpoint_id = created.json()["endpoint"]["id"]
    for suffix in BAD_SUFFIXES:
        # NUL and the control characters no text field may hold are refused at the API's edge
        # (400 invalid_request, for every field); the rest by the URL rule (422 url_not_allowed).
        edge = text_problem(suffix, "url", free_text=True) is not None
        expected = (400, "invalid_request") if edge else (422, "url_not_allowed")
        for url in (receiver.url + suffix, " " + receiver.url + suffix):
            response = shop.post("/api/webhook_endpoints", {"url": url, "enabledEvents": ["*"]})
            error = response.json()["error"]
            assert (response.status_code, error["code"]) == expected, (url, response.text)
            assert error["param"] == "url"
        path = f"/api/webhook_endpoints/{endpoint_id}"
        updated = shop.post(path, {"url": receiver.url + suffix})
        assert updated.status_code == expected[0], (suffix, updated.text)
        assert updated.json()["error"]["param"] == "url"
    assert sum(text_problem(s, "url", free_text=True) is None for s in BAD_SUFFIXES) >= 10
    [endpoint] = shop.get("/api/webhook_endpoints").json()["endpoints"]  # nothing created
    assert endpoint["url"] == receiver.url  # nor changed


# --- localhost endpoints on a development server ---------------------------------------------


@pytest.mark.parametrize(
    ("app_env", "flag", "allowed"),
    [
        ("development", None, True),  # what `make run` uses
        ("development", "false", True),
        ("test", "true", True),
        ("test", None, False),
        ("staging", None, False),
        ("production", "true", False),  # and the settings refuse to start
        ("production", None, False),
    ],
)
def test_localhost_endpoints_in_test_mode_only_on_a_development_server(
    outbound: str,
    monkeypatch: pytest.MonkeyPatch,
    app_env: str,
    flag: str | None,
    allowed: bool,
):
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("SECRET_KEY", "a-private-production-secret-0123456789")
    if flag is None:
        monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK", raising=False)
    else:
        monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", flag)
    reread_settings()
    local = [
        "http://localhost:4242/hook",
        "http://127.0.0.1:4242/hook",
        "http://[::1]:4242/hook",
        "https://localhost:4242/hook",
    ]
    for url in local:
        if allowed:
            assert webhook_urls.check_url(url, livemode=False)
        else:
            with pytest.raises(ValidationFailed):
                webhook_urls.check_url(url, livemode=False)
        with pytest.raises(ValidationFailed):  # live mode: never
            webhook_urls.check_url(url, livemode=True)
    if app_env == "production" and flag:
        with pytest.raises(RuntimeError, match="WEBHOOKS_ALLOW_LOOPBACK"):
            get_settings().check_production_ready()


def test_development_relaxes_those_three_host_names_only(
    outbound: str, monkeypatch: pytest.MonkeyPatch, fake_dns: dict[str, list[str]]
):
    monkeypatch.setenv("APP_ENV", "development")
    reread_settings()
    fake_dns["dev.example.com"] = ["127.0.0.1"]  # another name for loopback
    for url in (
        "http://dev.example.com:4242/hook",
        "http://127.0.0.2:4242/hook",  # loopback, but not 127.0.0.1
        "http://2130706433:4242/hook",  # 127.0.0.1 as one number
        "http://[::ffff:127.0.0.1]:4242/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "https://169.254.169.254/",
        "http://localhost.:4242/hook",
    ):
        with pytest.raises(ValidationFailed):
            webhook_urls.check_url(url, livemode=False)
