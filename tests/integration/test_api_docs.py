"""/api/docs works offline: the page and every file it loads come from this app."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.live_server import serve

CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
}


def check_docs_offline(client: httpx.Client) -> list[str]:
    """Assert the docs page references only this app's files, that they load with the right
    content types and that the OpenAPI document loads; the files it referenced."""
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references, page.text
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
    assert "cdn" not in page.text.lower()
    assert "<script>" not in page.text  # no inline script: a strict CSP allows the page

    for reference in references:
        answer = client.get(reference)
        assert answer.status_code == 200, reference
        suffix = reference[reference.rindex(".") :]
        assert answer.headers["content-type"].startswith(CONTENT_TYPES[suffix]), (
            reference,
            answer.headers["content-type"],
        )
        assert len(answer.content) > 100 or suffix == ".js", reference
    init = client.get("/api/docs/init.js").text
    assert "SwaggerUIBundle(" in init and "/api/openapi.json" in init
    assert "SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").text

    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/payments/charge" in schema.json()["paths"]
    return references


def test_docs_are_served_from_the_app_over_http() -> None:
    from backend.api import create_app

    with serve(create_app()) as base, httpx.Client(base_url=base) as client:
        references = check_docs_offline(client)
    assert {"/api/docs/assets/swagger-ui.css", "/api/docs/assets/swagger-ui-bundle.js"} <= set(
        references
    )


@pytest.mark.parametrize(
    "path", ["/api/docs/assets/../../../etc/passwd", "/api/docs/assets/nope.js"]
)
def test_only_swagger_files_are_served(path: str) -> None:
    from fastapi.testclient import TestClient

    from backend.api import create_app

    assert TestClient(create_app()).get(path).status_code in (400, 404)
