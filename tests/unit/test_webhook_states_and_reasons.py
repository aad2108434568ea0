"""A delivery's state and a failure's plain reason, from stored facts alone (no database)."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import schedule as webhook_schedule
from backend.services.webhooks.outbound.failures import FailureKind, classify, failure_kind, reason
from portal.state.webhook_rows import attempt_row, delivery_row, endpoint_row

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def delivery(**facts: object) -> WebhookDelivery:
    defaults: dict[str, object] = {
        "id": "whd_1",
        "merchant_id": "mer_1",
        "endpoint_id": "we_1",
        "event_id": "evt_1",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0,
        "created_at": T0,
    }
    return WebhookDelivery(**{**defaults, **facts})


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, ("pending", 0, 12, None)),
        # Claimed, in flight: not counted yet, still "pending".
        ({"attempts": 1, "locked_until": T0 + timedelta(minutes=1)}, ("pending", 0, 12, None)),
        (
            {
                "attempts": 1,
                "next_attempt_at": T0 + timedelta(minutes=1),
                "last_status_code": 500,
                "last_error_code": "http_status",
            },
            ("retrying", 1, 12, "Answered 500 Internal Server Error"),
        ),
        (
            {
                "attempts": 3,
                "next_attempt_at": T0 + timedelta(minutes=36),
                "last_error": "timed out after 5 s",
                "last_error_code": "timeout",
            },
            ("retrying", 3, 12, "Timed out after 5 s without an answer"),
        ),
        # A worker died mid-attempt: its lease ran out, nothing was recorded.
        (
            {"attempts": 1, "locked_until": T0 - timedelta(seconds=1)},
            ("retrying", 1, 12, "The last attempt did not finish; it is tried again"),
        ),
        # Failed for good, then redelivered by hand past the window: one more attempt.
        (
            {
                "attempts": 12,
                "next_attempt_at": T0 + timedelta(days=4),
                "last_status_code": 503,
            },
            ("retrying", 12, 13, "Answered 503 Service Unavailable"),
        ),
        (
            {
                "status": "failed",
                "attempts": 12,
                "next_attempt_at": None,
                "last_error": "ConnectError: [Errno 111] Connection refused",
                "last_error_code": "connection_refused",
            },
            (
                "failed",
                12,
                12,
                "Connection refused: nothing is listening at that address and port",
            ),
        ),
        # Written before kinds existed: read from the words stored then.
        (
            {
                "status": "failed",
                "attempts": 0,
                "next_attempt_at": None,
                "last_error": "endpoint disabled",
            },
            ("failed", 0, 0, "Not sent: the endpoint is disabled"),
        ),
        (
            {"status": "succeeded", "attempts": 3, "next_attempt_at": None},
            ("succeeded", 3, 3, None),
        ),
    ],
)
def test_the_state_of_a_delivery_follows_from_its_facts(
    facts: dict[str, object], expected: tuple[str, int, int, str | None]
):
    state = webhook_deliveries.delivery_state(delivery(**facts), now=T0)
    assert (state.status, state.attempt, state.max_attempts, state.reason) == expected


def test_the_planned_count_is_the_nominal_schedule():
    assert webhook_schedule.planned_attempts(T0, 0, T0) == 12
    assert webhook_schedule.planned_attempts(T0, 11, T0 + timedelta(days=3)) == 12
    # Jitter brought attempts forward: more fit in the window than nominally.
    assert webhook_schedule.planned_attempts(T0, 6, T0 + timedelta(hours=5)) > 12


def chained(outer: type[Exception], cause: BaseException) -> Exception:
    """An httpx error caused by a lower-level one, as httpx raises them."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise outer("wrapped") from exc
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ReadTimeout("slow"), FailureKind.TIMEOUT),
        (
            chained(
                httpx.ConnectError, ssl.SSLCertVerificationError(1, "certificate verify failed")
            ),
            FailureKind.TLS_UNTRUSTED,
        ),
        (
            chained(httpx.ConnectError, ssl.SSLError(1, "wrong version number")),
            FailureKind.TLS_ERROR,
        ),
        (
            chained(httpx.ConnectError, ConnectionRefusedError(111, "refused")),
            FailureKind.CONNECTION_REFUSED,
        ),
        (chained(httpx.ConnectError, socket.gaierror(-2, "Name unknown")), FailureKind.DNS_FAILURE),
        (httpx.RemoteProtocolError("Server disconnected"), FailureKind.CONNECTION_CLOSED),
        (
            chained(httpx.ReadError, ConnectionResetError(104, "reset")),
            FailureKind.CONNECTION_FAILED,
        ),
        (httpx.InvalidURL("Invalid non-printable ASCII character"), FailureKind.INVALID_URL),
        (RuntimeError("a bug"), FailureKind.INTERNAL_ERROR),
    ],
)
def test_exceptions_are_classified_by_what_caused_them(exc: Exception, kind: FailureKind):
    failure = classify(exc, timeout=5)
    assert failure.kind == kind
    if kind is FailureKind.TIMEOUT:
        assert failure.detail == "timed out after 5 s"  # the configured time, for the reason
    assert reason(failure.kind, None, failure.detail)  # every kind has its sentence


@pytest.mark.parametrize(
    ("detail", "problem"),
    [
        ("certificate verify failed: self-signed certificate", "it is self-signed"),
        ("certificate verify failed: certificate has expired", "it has expired"),
        ("Hostname mismatch, certificate is not valid for 'x'", "it is not issued for this host"),
        ("unable to get local issuer certificate", "it is not issued by a known certificate"),
        ("something new", "it could not be verified"),
    ],
)
def test_an_untrusted_certificate_says_what_is_wrong_with_it(detail: str, problem: str):
    sentence = reason("tls_untrusted", None, detail)
    assert sentence is not None and sentence.startswith(f"Certificate not trusted: {problem}")


def test_reasons_for_answers_unknown_kinds_and_successes():
    assert reason("http_status", 418, None) == "Answered 418 I'm a Teapot"
    assert reason("http_status", 599, None) == "Answered 599"
    assert reason(None, 200, None) is None
    assert reason(None, 404, None) == "Answered 404 Not Found"  # an old row without a kind
    assert failure_kind("from_a_newer_version", None, None) is FailureKind.INTERNAL_ERROR


def test_rows_for_people_show_health_and_keep_the_technical_detail_apart():
    endpoint = WebhookEndpoint(
        id="we_1",
        merchant_id="mer_1",
        url="https://hooks.example.com/",
        enabled_events=["*"],
        secret_encrypted="x",
        failing_since=T0,
        consecutive_failures=7,
        last_success_at=T0 - timedelta(days=1),
    )
    row = endpoint_row(endpoint, "Europe/Paris")
    assert (row["health"], row["health_label"], row["status_label"]) == (
        "failing",
        "Failing",
        "Enabled",
    )
    assert row["health_detail"] == (
        "Failing since 01 Jan 2030, 13:00 CET · 7 consecutive failures · "
        "last success 31 Dec 2029, 13:00 CET"
    )
    endpoint.failing_since, endpoint.consecutive_failures = None, 0
    assert endpoint_row(endpoint, "UTC")["health_detail"] == "Last success 31 Dec 2029, 12:00 UTC"

    attempt = WebhookDeliveryAttempt(
        id="wha_1",
        delivery_id="whd_1",
        attempted_at=T0,
        status_code=None,
        latency_ms=5001,
        error="timed out after 5 s",
        error_code="timeout",
    )
    shown = attempt_row(attempt, "UTC")
    assert shown["line"] == "01 Jan 2030, 12:00 UTC · No answer · 5001 ms"
    assert shown["reason"] == "Timed out after 5 s without an answer"
    assert shown["technical"] == "timed out after 5 s"


def test_a_retry_within_the_hour_says_how_soon():
    retrying = webhook_deliveries.LoggedDelivery(
        delivery(attempts=1, next_attempt_at=T0 + timedelta(seconds=42), last_status_code=500),
        "payment.succeeded",
        [],
    )
    row = delivery_row(retrying, "UTC", now=T0)
    assert (row["status_label"], row["reason"]) == (
        "Retrying",
        "Answered 500 Internal Server Error",
    )
    assert row["summary"] == "Attempt 1 of 12 failed · next try 01 Jan 2030, 12:00 UTC (in 42 s)"
    later = delivery_row(retrying, "UTC", now=T0 - timedelta(hours=2))
    assert later["summary"].endswith("next try 01 Jan 2030, 12:00 UTC")
