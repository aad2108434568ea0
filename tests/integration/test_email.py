"""E-mail through the real sendgrid SDK against a local fake of SendGrid, and the sandbox twin."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from backend.core.db import session_scope
from backend.integrations import email
from backend.models import OutboundEmail
from tests.conftest import _reset_caches
from tests.fakes.sendgrid_api import FakeSendGrid

API_KEY = "SG.test-key-for-the-fake"


@pytest.fixture
def sandbox(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    _reset_caches()
    return configured_app


@pytest.fixture
def sendgrid(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSendGrid]:
    with FakeSendGrid(api_key=API_KEY) as fake:
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        monkeypatch.setenv("SENDGRID_API_BASE", fake.url)
        monkeypatch.setenv("SENDGRID_FROM_EMAIL", "alerts@payportal.test")
        _reset_caches()
        yield fake


def _send(**overrides: object) -> OutboundEmail:
    fields: dict = {
        "to": "owner@shop.test",
        "subject": "Your webhook endpoint is failing",
        "text": "Plain text body",
        "html": "<p>HTML body</p>",
        "template": "webhook_delivery_failed",
        **overrides,
    }
    with session_scope() as db:
        return email.send_email(db, **fields)


def _stored(email_id: str) -> OutboundEmail:
    with session_scope(readonly=True) as db:
        row = db.get(OutboundEmail, email_id)
    assert row is not None
    return row


def test_the_real_sdk_sends_through_the_fake_and_the_message_id_is_kept(sendgrid: FakeSendGrid):
    sent = _send()
    assert len(sendgrid.requests) == 1
    request = sendgrid.requests[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["user-agent"].startswith("sendgrid/")  # the SDK, not a hand-made call
    assert request.body["from"] == {"email": "alerts@payportal.test"}
    assert request.body["personalizations"] == [{"to": [{"email": "owner@shop.test"}]}]
    assert request.body["subject"] == "Your webhook endpoint is failing"
    assert request.body["content"] == [
        {"type": "text/plain", "value": "Plain text body"},
        {"type": "text/html", "value": "<p>HTML body</p>"},
    ]
    assert request.body["categories"] == ["webhook_delivery_failed"]
    assert request.body["custom_args"] == {"email_id": sent.id}
    row = _stored(sent.id)
    assert (row.provider, row.status, row.error) == ("sendgrid", "sent", None)
    assert row.provider_message_id == request.message_id
    assert row.sent_at is not None


def test_a_provider_error_is_recorded_and_never_raised(sendgrid: FakeSendGrid):
    sendgrid.fail_next(1, status=503)
    row = _stored(_send().id)
    assert (row.status, row.provider, row.provider_message_id) == ("failed", "sendgrid", None)
    assert row.error is not None and "503" in row.error
    assert sendgrid.requests == []


def test_a_wrong_key_is_a_recorded_failure(sendgrid: FakeSendGrid, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.wrong")
    _reset_caches()
    row = _stored(_send().id)
    assert row.status == "failed" and row.error is not None and "401" in row.error


def test_an_unreachable_provider_is_a_recorded_failure(configured_app: str, monkeypatch):  # type: ignore[no-untyped-def]
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    monkeypatch.setenv("SENDGRID_API_BASE", f"http://127.0.0.1:{port}")
    _reset_caches()
    row = _stored(_send().id)
    assert row.status == "failed" and "unreachable" in (row.error or "")


def test_queued_then_sent_after_the_commit(sendgrid: FakeSendGrid):
    with session_scope() as db:
        queued = email.record_email(
            db, to="a@shop.test", subject="Queued", text="t", template="receipt"
        )
    assert _stored(queued.id).status == "queued" and sendgrid.requests == []
    email.send_recorded(queued.id)
    assert _stored(queued.id).status == "sent"
    assert email.send_recorded(queued.id) is None  # never twice
    assert len(sendgrid.requests) == 1


def test_without_a_key_the_sandbox_records_it_for_the_mailbox(sandbox: str):
    first = _send(subject="First")
    second = _send(subject="Second", html=None)
    for row in (_stored(first.id), _stored(second.id)):
        assert (row.provider, row.status) == ("sandbox", "sent")
        assert row.provider_message_id and row.provider_message_id.startswith("sbx_")
    with session_scope(readonly=True) as db:
        # Newest first (a shared PostgreSQL database also holds other tests' e-mails).
        mailbox = [m.id for m in email.list_mailbox(db, limit=10_000)]
        assert [m for m in mailbox if m in (first.id, second.id)] == [second.id, first.id]
        assert len(email.list_mailbox(db, limit=1)) == 1
