"""The webhooks pages in a browser, at both viewports: each endpoint's health in the list; each
delivery's state and plain reason; the technical detail behind its toggle; a delivery log
that refreshes itself while it is open."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot, sign_in
from tests.fakes.receiver import Receiver, Reply

pytestmark = pytest.mark.e2e


def api(app_url: str, key: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{app_url}/api{path}",
        data=json.dumps(body or {}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.load(response)
    except urllib.error.HTTPError as refused:
        raise AssertionError(refused.read().decode()) from None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_delivery_states_reasons_health_and_a_log_that_refreshes_itself(
    app_url, new_merchant, open_page, console_errors, viewport
) -> None:
    key = new_merchant["key"]
    with Receiver() as hook:
        hook.script(Reply(500, b"boom: database unavailable"))
        good = api(app_url, key, "/webhook_endpoints", {"url": hook.url, "enabledEvents": ["*"]})
        bad_url = f"http://127.0.0.1:{closed_port()}/hooks/orders"
        bad = api(
            app_url,
            key,
            "/webhook_endpoints",
            {"url": bad_url, "enabledEvents": ["*"], "description": "Orders service"},
        )
        endpoint_id, bad_id = good["endpoint"]["id"], bad["endpoint"]["id"]
        # Both endpoints get a test event: one answers 500, the other refuses the connection.
        first = api(app_url, key, f"/webhook_endpoints/{endpoint_id}/test")["delivery"]
        api(app_url, key, f"/webhook_endpoints/{bad_id}/test")

        page = sign_in(
            open_page(viewport), app_url, new_merchant["email"], new_merchant["password"]
        )
        page.goto(f"{app_url}/developers/webhooks")
        cards = page.locator("a[href^='/developers/webhooks/we_']")
        expect(cards).to_have_count(2)
        bad_card = cards.filter(has_text="Orders service")
        expect(bad_card).to_contain_text("Failing")
        expect(bad_card).to_contain_text("1 consecutive failure")
        expect(bad_card).to_contain_text("no success yet")
        expect(bad_card).to_contain_text("Enabled")
        assert not has_horizontal_scroll(page)
        screenshot(page, f"webhooks-health-{viewport}")

        page.goto(f"{app_url}/developers/webhooks/{endpoint_id}")
        delivery = page.locator(".pp-delivery").first
        expect(delivery).to_contain_text("webhook.test")
        expect(delivery).to_contain_text("Retrying")
        expect(delivery).to_contain_text("Attempt 1 of 12 failed · next try")
        expect(delivery.locator(".pp-delivery-reason")).to_have_text(
            "Answered 500 Internal Server Error"
        )
        expect(page.locator(".pp-endpoint-health")).to_contain_text("Failing since")
        delivery.get_by_role("button", name="Details").click()
        expect(delivery).to_contain_text("500 Internal Server Error ·")
        expect(delivery.locator(".pp-technical")).to_have_count(0)  # behind the toggle
        toggle = delivery.get_by_role("button", name="Show technical detail")
        toggle.click()
        expect(delivery.locator(".pp-technical")).to_contain_text("boom: database unavailable")
        expect(delivery.get_by_role("button", name="Hide technical detail")).to_have_attribute(
            "aria-expanded", "true"
        )
        assert not has_horizontal_scroll(page)
        screenshot(page, f"webhook-delivery-states-{viewport}")

        # The log refreshes by itself: a redelivery and a new event made elsewhere (the API)
        # appear without a reload, and the open delivery keeps its toggle.
        api(app_url, key, f"/webhook_deliveries/{first['id']}/redeliver")
        api(app_url, key, f"/webhook_endpoints/{endpoint_id}/test")
        expect(page.locator(".pp-delivery")).to_have_count(2)
        opened = page.locator(".pp-delivery").nth(1)
        expect(opened).to_contain_text("Succeeded")
        expect(opened).to_contain_text("Delivered on attempt 2")
        expect(opened.locator(".pp-technical").first).to_be_visible()
        expect(page.locator(".pp-endpoint-health")).to_contain_text("Healthy")
        assert [r.status for r in hook.received] == [500, 200, 200]
        screenshot(page, f"webhook-log-refreshed-{viewport}")

        # The failing endpoint's page: the reason for a refused connection.
        page.goto(f"{app_url}/developers/webhooks/{bad_id}")
        expect(page.locator(".pp-delivery-reason")).to_have_text(
            "Connection refused: nothing is listening at that address and port"
        )
    assert console_errors == []
