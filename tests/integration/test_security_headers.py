"""Security headers: the standalone API, and the portal's stack (the API mounted over a stand-in
for the Reflex pages, the checkout's first paint, the asset cache) wrapped as portal/portal.py
wraps it. The e2e tests load the real pages under this policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from backend.api.security_headers import CONTENT_SECURITY_POLICY, security_headers
from checkout.first_paint import with_first_paint
from portal.http_cache import immutable_assets
from tests.integration.test_checkout_first_paint import SHELL, open_session

HTML_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": CONTENT_SECURITY_POLICY,
}


async def reflex_pages(scope: Scope, receive: Receive, send: Send) -> None:
    await HTMLResponse(SHELL)(scope, receive, send)


@pytest.fixture
def portal(configured_app: str, tmp_path: Path) -> TestClient:
    """The app as portal/portal.py assembles it, over a stand-in for Reflex's pages."""
    from backend.api import create_app

    shell = tmp_path / "__spa-fallback.html"
    shell.write_text(SHELL)
    api = create_app()
    api.mount("", reflex_pages)
    return TestClient(security_headers(with_first_paint(immutable_assets(api), shell)))


def test_the_policy_forbids_framing_plugins_and_foreign_forms() -> None:
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "form-action 'self'"):
        assert directive in CONTENT_SECURITY_POLICY


def test_portal_pages_carry_the_policy(portal: TestClient) -> None:
    page = portal.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name, value in HTML_HEADERS.items():
        assert page.headers[name] == value
    assert "strict-transport-security" not in page.headers  # not in development
    assert "no-store" not in page.headers.get("cache-control", "")


def test_the_checkout_page_carries_the_policy(portal: TestClient) -> None:
    session_id = open_session(portal)
    page = portal.get(f"/pay/{session_id}")
    assert page.status_code == 200 and "Beans" in page.text  # the first paint answered
    for name, value in HTML_HEADERS.items():
        assert page.headers[name] == value


def test_the_api_reference_runs_only_its_own_scripts(portal: TestClient) -> None:
    docs = portal.get("/api/docs")
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "https://" not in policy and "unsafe-inline' 'unsafe-eval" not in policy


@pytest.mark.parametrize("stack", ["portal", "standalone"])
def test_api_answers_are_not_sniffed_nor_stored(
    configured_app: str, portal: TestClient, stack: str
) -> None:
    from backend.api import create_app

    client = portal if stack == "portal" else TestClient(create_app())
    for answer in (
        client.get("/api/health"),
        client.post("/api/payments/charge", json={}),  # 401: refusals carry them too
        client.post("/api/session", data={"grant": "x"}),  # 400
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "content-security-policy" not in answer.headers  # JSON, not a page


def test_production_adds_strict_transport_security(
    configured_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.api import create_app
    from backend.core.config import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a private production secret for this test only")
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK", raising=False)
    get_settings.cache_clear()
    answer = TestClient(create_app()).get("/api/health")
    assert answer.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
