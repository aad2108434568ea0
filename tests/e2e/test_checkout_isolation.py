"""The checkout route ships only what it needs: no portal code in its JavaScript, no portal
state on the wire.

Reflex 0.10 builds one React Router app: every route is its own chunk, plus shared chunks. The
route manifest (build/client/assets/manifest-*.js) lists each route's module and imports, so the
exact JavaScript a checkout visit loads for its route can be read and searched. State travels
over the websocket as deltas keyed by state name; the frames a checkout page receives are
searched for the portal's states.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

ASSETS = ROOT / ".web" / "build" / "client" / "assets"
PORTAL_MARKERS = ("portal___state", "Sign out", "Open menu", "Load more")


def _manifest() -> dict:
    path = next(ASSETS.glob("manifest-*.js"))
    text = path.read_text()
    return json.loads(text[text.index("{") : text.rindex("}") + 1])


def _route_code(route_id: str) -> str:
    """The JavaScript a visit loads for this route beyond the app-wide root (Reflex's runtime,
    its state context and the theme, which every route, the sign-in page included, loads)."""
    routes = _manifest()["routes"]
    root = {routes["root"]["module"], *routes["root"].get("imports", [])}
    route = routes[route_id]
    files = [f for f in (route["module"], *route.get("imports", [])) if f not in root]
    return "\n".join(
        (ROOT / ".web" / "build" / "client" / f.lstrip("/")).read_text() for f in files
    )


def test_checkout_route_javascript_holds_no_portal_code(app_url) -> None:
    routes = _manifest()["routes"]
    pay = next(r for r in routes if "[pay]" in r)
    link = next(r for r in routes if "[link]" in r)
    portal = next(r for r in routes if r.endswith("[payments]._index"))
    for route_id in (pay, link):
        code = _route_code(route_id)
        assert "checkout___state" in code
        for marker in PORTAL_MARKERS:
            assert marker not in code, f"{marker!r} is shipped with {route_id}"
    # The same search finds the portal in a portal route: the check can fail.
    assert "portal___state" in _route_code(portal)


def test_checkout_loads_no_radix_themes(app_url) -> None:
    """Radix Themes' stylesheet and package belong to the portal's routes only
    (portal/theme_plugin.py); the checkout is styled by its own inlined CSS."""
    routes = _manifest()["routes"]
    pay = next(r for r in routes if "[pay]" in r)
    link = next(r for r in routes if "[link]" in r)
    portal = next(r for r in routes if r.endswith("[payments]._index"))
    for route_id in ("root", pay, link):
        assert routes[route_id].get("css", []) == [], route_id
    assert routes[portal]["css"], "the portal route lost the Radix Themes stylesheet"
    radix_css = (
        ROOT / ".web" / "build" / "client" / routes[portal]["css"][0].lstrip("/")
    ).read_text()
    assert ".radix-themes" in radix_css
    global_css = next(ASSETS.glob("__reflex_global_styles-*.css")).read_text()
    assert ".radix-themes" not in global_css
    root = routes["root"]
    root_code = "\n".join(
        (ROOT / ".web" / "build" / "client" / f.lstrip("/")).read_text()
        for f in (root["module"], *root.get("imports", []))
    )
    # A class name from the Radix Themes package: the portal routes carry it, the root does not.
    assert "rt-Flex" not in root_code
    assert "rt-Flex" in _route_code(portal)


def test_checkout_page_receives_no_portal_state(app_url, demo, open_page) -> None:
    api = httpx.Client(
        base_url=app_url, headers={"Authorization": f"Bearer {demo['test_secret_key']}"}
    )
    session = api.post(
        "/api/checkout/sessions",
        json={
            "amountCents": 700,
            "currency": "USD",
            "successUrl": "https://shop.test/ok",
            "cancelUrl": "https://shop.test/no",
        },
    ).json()["session"]
    page = open_page("phone")
    received: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda frame: received.append(str(frame))),
    )
    page.goto(session["url"])
    expect(page.get_by_role("button", name="Pay $7.00")).to_be_visible()
    frames = "\n".join(received)
    assert "checkout___state" in frames
    assert "portal___state" not in frames
    assert not re.search(r"auth_state|payments_state|branding_state", frames)
    assert Path(ASSETS).exists()
