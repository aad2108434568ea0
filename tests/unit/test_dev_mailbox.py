"""The development mailbox exists only without SendGrid and outside production; its links."""

from __future__ import annotations

import pytest

from backend.core.config import get_settings
from backend.services.merchant import dev_mailbox


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_on_for_the_offline_demo() -> None:
    assert dev_mailbox.enabled()


def test_off_with_sendgrid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.real-key")
    get_settings.cache_clear()
    assert not dev_mailbox.enabled()


def test_off_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    assert not dev_mailbox.enabled()


def test_links_become_segments() -> None:
    line = "Confirm: http://localhost:3000/verify-email?token=abc123 (once)."
    assert dev_mailbox.segments(line) == [
        dev_mailbox.Segment("Confirm: ", ""),
        dev_mailbox.Segment(
            "http://localhost:3000/verify-email?token=abc123",
            "http://localhost:3000/verify-email?token=abc123",
        ),
        dev_mailbox.Segment(" (once).", ""),
    ]
    assert dev_mailbox.segments("") == [dev_mailbox.Segment("", "")]
    assert dev_mailbox.segments("no links here") == [dev_mailbox.Segment("no links here", "")]
