"""The checkout's first paint in the HTML of /pay/{id}, and the cache headers of build files.

The wrappers run around a stand-in for the Reflex app (it answers "reflex" to anything), with a
shell shaped like the one `reflex run --env prod` builds; the e2e tests run them in the real app.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from backend.core.db import session_scope
from backend.models import CheckoutSession
from checkout.first_paint import BOOT, HELD_BOOT, LOW_PRELOAD, ROOT_ID, with_first_paint
from portal.http_cache import IMMUTABLE, immutable_assets
from tests.integration.api_client import new_merchant

SHELL = (
    '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
    '<link rel="modulepreload" href="/assets/entry.client-X.js"/>'
    '<link href="/assets/__reflex_global_styles-X.css" rel="stylesheet"/></head><body>'
    '<section aria-label="Notifications"></section>'
    '<script type="module" async="">import("/assets/entry.client-X.js");</script>'
    "</body></html>"
)
URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}


async def reflex_stand_in(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("reflex")(scope, receive, send)


@pytest.fixture
def api(configured_app: str):  # type: ignore[no-untyped-def]
    from backend.api import create_app

    with TestClient(create_app()) as client:
        yield client


@pytest.fixture
def shell(tmp_path: Path) -> Path:
    path = tmp_path / "__spa-fallback.html"
    path.write_text(SHELL)
    return path


@pytest.fixture
def site(shell: Path) -> TestClient:
    return TestClient(with_first_paint(reflex_stand_in, shell))


def open_session(api: TestClient, name: str = "Northwind") -> str:
    shop = new_merchant(api, name=name)
    body = {
        "lineItems": [{"name": "Beans <250 g>", "quantity": 2, "unitAmountCents": 1450}],
        "currency": "USD",
        **URLS,
    }
    response = shop.post("/api/checkout/sessions", body)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def test_open_session_page_carries_its_first_paint(api: TestClient, site: TestClient) -> None:
    session_id = open_session(api, name='Ann & "Bob" <Coffee>')
    page = site.get(f"/pay/{session_id}", headers={"Accept-Language": "es-ES"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "private, no-cache"
    text = page.text
    # Everything the customer sees first, in their language, escaped.
    assert f'<div id="{ROOT_ID}" inert="" aria-hidden="true">' in text
    name = "Ann &amp; &quot;Bob&quot; &lt;Coffee&gt;"
    assert f'<h1 title="{name}">{name}</h1>' in text
    assert "Beans &lt;250 g&gt;" in text and "<Coffee>" not in text
    assert "29,00" in text and 'lang="es"' in text
    # The app still boots: once, after the first paint; its modules are fetched at low priority.
    assert BOOT not in text and text.count(HELD_BOOT) == 1
    assert LOW_PRELOAD in text
    assert text.index(ROOT_ID) < text.index("Notifications") < text.index(HELD_BOOT)


def test_first_paint_is_compressed_when_the_browser_accepts_it(
    api: TestClient, site: TestClient
) -> None:
    session_id = open_session(api)
    raw = site.get(f"/pay/{session_id}", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert ROOT_ID in raw.text  # decoded by httpx: the body is gzip
    plain = site.get(f"/pay/{session_id}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and ROOT_ID in plain.text


@pytest.mark.parametrize("status", ["complete", "expired"])
def test_closed_session_gets_the_plain_page(api: TestClient, site: TestClient, status: str) -> None:
    session_id = open_session(api)
    with session_scope() as db:
        session = db.get(CheckoutSession, session_id)
        session.status = status
        db.add(session)
    assert site.get(f"/pay/{session_id}").text == "reflex"


@pytest.mark.parametrize(
    "path", ["/pay/cs_unknown", "/pay/../etc/passwd", "/pay/" + "a" * 41, "/link/x", "/login"]
)
def test_other_paths_reach_the_app(api: TestClient, site: TestClient, path: str) -> None:
    assert site.get(path).text == "reflex"


def test_unexpected_shell_is_served_unchanged(api: TestClient, tmp_path: Path) -> None:
    session_id = open_session(api)
    shell = tmp_path / "shell.html"
    shell.write_text(SHELL.replace(BOOT, '<script type="module">'))
    assert TestClient(with_first_paint(reflex_stand_in, shell)).get(f"/pay/{session_id}").text == (
        "reflex"
    )
    missing = TestClient(with_first_paint(reflex_stand_in, tmp_path / "none.html"))
    assert missing.get(f"/pay/{session_id}").text == "reflex"


def test_live_merchant_page_has_no_test_note(api: TestClient, site: TestClient) -> None:
    session_id = open_session(api)
    with session_scope() as db:
        session = db.get(CheckoutSession, session_id)
        session.livemode = True
        db.add(session)
    text = site.get(f"/pay/{session_id}").text
    assert ROOT_ID in text and "co-note" not in text.split(ROOT_ID)[1].split("</main>")[0]


def test_hashed_build_files_are_cached_for_a_year() -> None:
    client = TestClient(immutable_assets(reflex_stand_in))
    assert client.get("/assets/root-abc123.js").headers["cache-control"] == IMMUTABLE.decode()
    assert "cache-control" not in client.get("/pay/cs_1").headers
    assert "cache-control" not in client.get("/favicon.ico").headers
