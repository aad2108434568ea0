"""The hosted checkout as a customer uses it, on a phone and at a desk, in the sandbox."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

CARD_OK = "4242 4242 4242 4242"


@pytest.fixture
def api(app_url, demo):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {demo['test_secret_key']}"}
    with httpx.Client(base_url=app_url, headers=headers, timeout=20) as client:
        yield client


def new_session(api, **body):  # type: ignore[no-untyped-def]
    payload = {
        "lineItems": [
            {"name": "Ethiopian beans 250 g", "quantity": 2, "unitAmountCents": 1450},
            {"name": "Pour-over filter", "unitAmountCents": 899},
        ],
        "currency": "USD",
        "successUrl": "https://shop.test/thanks",
        "cancelUrl": "https://shop.test/cart",
        **body,
    }
    if "amountCents" in body:
        payload.pop("lineItems")
    response = api.post("/api/checkout/sessions", json=payload)
    assert response.status_code == 201, response.text
    return response.json()["session"]


def fill_card(page, number: str = CARD_OK, email: str | None = None) -> None:  # type: ignore[no-untyped-def]
    if email is not None:
        page.get_by_label("E-mail").fill(email)
    page.get_by_label("Name on card").fill("Ann Lovelace")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("94107")


def outbox(app_env, to: str) -> list[dict]:  # type: ignore[no-untyped-def]
    engine = create_engine(app_env["DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT subject, text_body, status FROM outbound_emails WHERE to_email = :to"),
            {"to": to},
        ).mappings()
        found = [dict(r) for r in rows]
    engine.dispose()
    return found


def payments_of(api, session_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    session = api.get(f"/api/checkout/sessions/{session_id}").json()["session"]
    return api.get(f"/api/orders/{session['orderId']}/payments").json()["payments"]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pay_with_a_test_card(app_url, app_env, api, open_page, console_errors, viewport) -> None:
    session = new_session(api)
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    page = open_page(viewport)
    page.goto(session["url"])
    expect(page.get_by_role("button", name="Pay $37.99")).to_be_visible()
    expect(page.get_by_text("Test page")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-form-{viewport}")

    # Inline checks: a mistyped number, a past date, a short code, announced and focused.
    page.get_by_label("Card number").fill("4242 4242 4242 4241")
    page.get_by_label("Expiry (MM/YY)").fill("01/20")
    page.get_by_label("Security code").fill("1")
    page.get_by_role("button", name="Pay $37.99").click()
    expect(page.locator("#cc-number-error")).to_have_text(re.compile("incomplete or mistyped"))
    expect(page.locator("#cc-exp-error")).to_have_text(re.compile("in the past"))
    expect(page.locator("#cc-csc-error")).to_have_text(re.compile("3-digit"))
    expect(page.get_by_label("E-mail")).to_be_focused()
    screenshot(page, f"checkout-inline-errors-{viewport}")

    fill_card(page, email=email)
    expect(page.locator("#cc-brand")).to_have_text("Visa")
    page.get_by_role("button", name="Pay $37.99").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    expect(page.get_by_text(f"A receipt was sent to {email}.")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-receipt-{viewport}")

    paid = payments_of(api, session["id"])
    assert [(p["status"], p["amountCaptured"]) for p in paid] == [("succeeded", 3799)]
    read = api.get(f"/api/checkout/sessions/{session['id']}").json()["session"]
    assert (read["status"], read["paymentId"]) == ("complete", paid[0]["id"])
    mails = outbox(app_env, email)
    assert len(mails) == 1 and mails[0]["status"] == "sent"
    assert "$37.99" in mails[0]["text_body"] and "4242424242424242" not in mails[0]["text_body"]

    page.reload()  # a completed session shows its receipt, never the form again
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert console_errors == []


def test_decline_then_pay_on_the_same_session(app_url, api, open_page) -> None:
    session = new_session(api, amountCents=2500)
    page = open_page("phone")
    page.goto(session["url"])
    fill_card(page, "4000 0000 0000 9995", email="bo@example.com")
    page.get_by_role("button", name="Pay $25.00").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("insufficient funds"))
    screenshot(page, "checkout-declined-phone")
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_role("button", name="Pay $25.00").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    statuses = sorted(p["status"] for p in payments_of(api, session["id"]))
    assert statuses == ["failed", "succeeded"]


@pytest.mark.parametrize("approve", [True, False])
def test_three_d_secure(app_url, api, open_page, approve) -> None:
    session = new_session(api, amountCents=4000)
    page = open_page("desktop" if approve else "phone")
    page.goto(session["url"])
    fill_card(page, "4000 0025 0000 3155", email="cy@example.com")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.get_by_role("heading", name="Confirm with your bank")).to_be_visible()
    screenshot(page, f"checkout-3ds-{'desktop' if approve else 'phone'}")
    if approve:
        page.get_by_role("button", name="Approve the payment").click()
        expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
        assert [p["status"] for p in payments_of(api, session["id"])] == ["succeeded"]
    else:
        page.get_by_role("button", name="Fail authentication").click()
        expect(page.get_by_role("alert")).to_have_text(re.compile("could not confirm"))
        expect(page.get_by_role("button", name="Pay $40.00")).to_be_visible()
        assert [p["status"] for p in payments_of(api, session["id"])] == ["failed"]


def test_double_click_and_second_tab_pay_once(app_url, api, open_page) -> None:
    session = new_session(api, amountCents=1500)
    page = open_page("desktop")
    second = open_page("phone")
    page.goto(session["url"])
    second.goto(session["url"])
    fill_card(page, email="di@example.com")
    fill_card(second, email="di@example.com")
    page.get_by_role("button", name="Pay $15.00").dblclick()
    second.get_by_role("button", name="Pay $15.00").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    expect(second.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert [p["status"] for p in payments_of(api, session["id"])] == ["succeeded"]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_expired_session(app_url, api, open_page, viewport) -> None:
    session = new_session(api, amountCents=1000)
    assert api.post(f"/api/checkout/sessions/{session['id']}/expire").status_code == 200
    page = open_page(viewport)
    page.goto(session["url"])
    expect(page.get_by_role("heading", name="This payment page has expired")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    screenshot(page, f"checkout-expired-{viewport}")


def test_keyboard_only_payment(app_url, api, open_page) -> None:
    session = new_session(api, amountCents=1200)
    page = open_page("desktop")
    page.goto(session["url"])
    expect(page.get_by_role("button", name="Pay $12.00")).to_be_visible()
    page.get_by_label("Language").focus()
    page.keyboard.press("Tab")
    page.keyboard.type("ki@example.com")
    # The test wallets come next, before the card fields (a real page's wallets do too).
    for wallet in ("Apple Pay", "Google Pay"):
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=f"{wallet} · test wallet")).to_be_focused()
    for value in ["Kim Ito", CARD_OK, "1234", "321", "10115"]:
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Pay $12.00")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_spanish_and_euros(app_url, api, browser, viewport) -> None:
    session = new_session(
        api,
        lineItems=[{"name": "Café molido", "quantity": 3, "unitAmountCents": 123456}],
        currency="EUR",
    )
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],
        locale="es-ES",
        extra_http_headers={"Accept-Language": "es-ES"},
    )
    page = context.new_page()
    page.goto(session["url"])
    expect(page.get_by_role("button", name=re.compile(r"^Pagar 3\.703,68\s€$"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Cant\. 3$"))).to_be_visible()
    expect(page.get_by_text("Resumen del pedido")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-spanish-{viewport}")
    page.get_by_label("Idioma").select_option("fr")
    expect(page.get_by_role("button", name=re.compile(r"^Payer 3\s?703,68\s€$"))).to_be_visible()
    page.get_by_label("Langue").select_option("es")
    context.close()


def test_unknown_session(app_url, open_page) -> None:
    page = open_page("phone")
    page.goto(f"{app_url}/pay/cs_does_not_exist")
    expect(page.get_by_role("heading", name="Payment page not found")).to_be_visible()
