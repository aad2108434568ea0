"""A customer on the checkout: a payment link's total follows the quantity at once, the receipt
speaks the customer's language and time zone, a long merchant name with a logo keeps to one line
on a phone, and a page that keeps being declined locks (card testing)."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot
from tests.e2e.test_checkout import CARD_OK, outbox

pytestmark = pytest.mark.e2e

LONG_NAME = "Northwind Harbour Speciality Coffee Roasters and Tea Merchants Ltd"
GERMAN_MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
LABELS = {
    "en": (
        "E-mail",
        "Name on card",
        "Card number",
        "Expiry (MM/YY)",
        "Security code",
        "Postal code",
    ),
    "de": (
        "E-Mail",
        "Name auf der Karte",
        "Kartennummer",
        "Gültig bis (MM/JJ)",
        "Sicherheitscode",
        "Postleitzahl",
    ),
}


def fill_card(page, number: str, email: str | None, language: str = "en") -> None:  # type: ignore[no-untyped-def]
    email_label, name, card, expiry, cvc, postal = LABELS[language]
    if email is not None:
        page.get_by_label(email_label).fill(email)
    page.get_by_label(name).fill("Jo Tester")
    page.get_by_label(card).fill(number)
    page.get_by_label(expiry).fill("12/34")
    page.get_by_label(cvc).fill("123")
    page.get_by_label(postal).fill("10115")


@dataclass
class Shop:
    merchant_id: str
    api: httpx.Client

    def session(self, amount: int, **body: object) -> dict:
        payload = {
            "amountCents": amount,
            "currency": "USD",
            "successUrl": "https://shop.test/thanks",
            "cancelUrl": "https://shop.test/cart",
            **body,
        }
        response = self.api.post("/api/checkout/sessions", json=payload)
        assert response.status_code == 201, response.text
        return response.json()["session"]

    def wait_for_attempts(self, session: dict, count: int) -> None:
        """Until the session's order has `count` payment attempts (the page answered)."""
        deadline = time.monotonic() + 15
        while True:
            found = self.api.get(f"/api/orders/{session['orderId']}/payments").json()["payments"]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) == count
                return
            time.sleep(0.2)


@pytest.fixture
def make_shop(app_url, app_env):  # type: ignore[no-untyped-def]
    """make_shop(name, logo=False) -> a merchant of its own, made in the app's database: its
    declines and settings touch no other test."""
    from backend.core.db import make_engine, session_scope
    from backend.services.checkout import branding
    from backend.services.identity import accounts

    engine = make_engine(app_env["DATABASE_URL"])
    clients: list[httpx.Client] = []

    def _make(name: str, logo: bool = False) -> Shop:
        with session_scope(engine) as db:
            created = accounts.create_merchant(
                db,
                email=f"owner-{uuid.uuid4().hex[:10]}@shop.test",
                password="a long passphrase 1",
                name=name,
            )
            if logo:
                image = io.BytesIO()
                Image.new("RGB", (240, 80), (22, 101, 52)).save(image, format="PNG")
                db.flush()
                branding.upload_logo(db, created.merchant.id, image.getvalue())
        headers = {"Authorization": f"Bearer {created.test_secret_key}"}
        client = httpx.Client(base_url=app_url, headers=headers, timeout=20)
        clients.append(client)
        return Shop(created.merchant.id, client)

    yield _make
    for client in clients:
        client.close()
    engine.dispose()


@pytest.fixture
def make_link(app_env) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    from backend.core.db import make_engine, session_scope
    from backend.services.checkout import payment_links
    from backend.services.context import Scope

    def _make(shop: Shop, **fields: object) -> str:
        engine = make_engine(app_env["DATABASE_URL"])
        with session_scope(engine) as db:
            link = payment_links.create_link(db, Scope(shop.merchant_id, False), **fields)
            link_id = link.id
        engine.dispose()
        return link_id

    return _make


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_links_total_follows_the_quantity_at_once(
    app_url, open_page, make_shop, make_link, console_errors, viewport
) -> None:
    shop = make_shop("Harbour Tea")
    link = make_link(shop, name="Tea tasting", currency="USD", unit_amount=1250, max_quantity=10)
    page = open_page(viewport)
    page.goto(f"{app_url}/link/{link}")
    total = page.locator(".co-total [data-link-total]")
    expect(total).to_have_text("$12.50")
    expect(page.get_by_role("button", name="Continue to pay $12.50")).to_be_visible()

    # Typing a quantity changes the total in the same task, before any answer from the server
    # (once the page's script has loaded: the server-rendered total shows before it does).
    page.wait_for_function("window.__ppLinkQuantity === true")
    shown = page.evaluate(
        """() => {
          const field = document.getElementById("quantity");
          field.value = "3";
          field.dispatchEvent(new Event("input", {bubbles: true}));
          return [...document.querySelectorAll("[data-link-total], [data-link-qty]")]
            .map((el) => el.textContent).concat(document.querySelector(".co-pay").textContent);
        }"""
    )
    assert shown == ["Qty 3", "$37.50", "$37.50", "Continue to pay $37.50"]
    page.get_by_label("Quantity").fill("12")
    expect(page.locator("#quantity-error")).to_have_text("Choose a quantity from 1 to 10.")
    expect(total).to_have_text("$37.50")  # the last quantity that can be bought
    page.get_by_label("Quantity").fill("4")
    expect(page.locator("#quantity-error")).to_have_text("")
    expect(total).to_have_text("$50.00")
    expect(page.get_by_role("button", name="Continue to pay $50.00")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-link-quantity-{viewport}")

    # Another language keeps the quantity chosen.
    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("button", name=re.compile(r"^Weiter zur Zahlung von 50,00\s\$$")))
    expect(total).to_have_text(re.compile(r"^50,00\s\$$"))
    expect(page.locator("[data-link-qty]")).to_have_text("Anz. 4")
    page.get_by_label("Sprache").select_option("en")
    expect(total).to_have_text("$50.00")

    # The server prices the order itself: a total changed in the page changes nothing.
    page.evaluate(
        """() => document.getElementById("link-form").dataset.totals = '["$0.01","$0.01"]'"""
    )
    page.get_by_label("Quantity").fill("2")
    expect(total).to_have_text("$0.01")
    page.get_by_role("button", name="Continue to pay $0.01").click()
    page.wait_for_url(re.compile(r".*/pay/cs_.*"))
    expect(page.get_by_role("button", name="Pay $25.00")).to_be_visible()
    assert console_errors == []


def test_a_yen_link_in_german(app_url, browser, make_shop, make_link) -> None:
    shop = make_shop("Kissa Kyoto")
    link = make_link(shop, name="Matcha", currency="JPY", unit_amount=1500, max_quantity=5)
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="de-DE")
    page = context.new_page()
    page.goto(f"{app_url}/link/{link}")
    total = page.locator(".co-total [data-link-total]")
    expect(total).to_have_text(re.compile(r"^1\.500\s¥$"))
    page.get_by_label("Menge").fill("3")
    expect(total).to_have_text(re.compile(r"^4\.500\s¥$"))
    expect(page.locator("[data-link-qty]")).to_have_text("Anz. 3")
    page.get_by_role("button", name=re.compile(r"^Weiter zur Zahlung von 4\.500\s¥$")).click()
    expect(page.get_by_role("button", name=re.compile(r"^4\.500\s¥ bezahlen$"))).to_be_visible()
    context.close()


def _german(moment: datetime, zone: str) -> str:
    """A long German date and time, written out here rather than by Babel."""
    local = moment.astimezone(ZoneInfo(zone))
    month = GERMAN_MONTHS.split()[local.month - 1]
    summer = bool(local.dst())
    return f"{local.day}. {month} {local.year}, {local:%H:%M} {'MESZ' if summer else 'MEZ'}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_receipt_in_german_and_berlin_time(
    app_url, app_env, browser, make_shop, viewport
) -> None:
    shop = make_shop("Kaffeehaus Nord")
    session = shop.session(4200)
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="de-DE", timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    page.goto(session["url"])
    fill_card(page, CARD_OK, email, "de")
    page.get_by_role("button", name=re.compile(r"^42,00\s\$ bezahlen$")).click()
    expect(page.get_by_role("heading", name="Zahlung erfolgreich")).to_be_visible()

    read = shop.api.get(f"/api/checkout/sessions/{session['id']}").json()["session"]
    paid_at = datetime.fromisoformat(read["completedAt"].replace("Z", "+00:00"))
    date = _german(paid_at, "Europe/Berlin")
    assert paid_at.astimezone(ZoneInfo("Europe/Berlin")).utcoffset().total_seconds() > 0
    expect(page.locator(".co-dl dd").nth(2)).to_have_text(date)
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-receipt-german-{viewport}")
    [mail] = outbox(app_env, email)
    assert f"Datum: {date}" in mail["text_body"]
    context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_long_name_and_a_logo_keep_to_one_line(app_url, open_page, make_shop, viewport) -> None:
    shop = make_shop(LONG_NAME, logo=True)
    page = open_page(viewport)
    page.goto(shop.session(1500)["url"])
    expect(page.get_by_role("button", name="Pay $15.00")).to_be_visible()
    logo = page.get_by_role("img", name=LONG_NAME).bounding_box()
    name = page.get_by_role("heading", name=LONG_NAME)
    box = name.bounding_box()
    assert logo and box
    assert abs((logo["y"] + logo["height"] / 2) - (box["y"] + box["height"] / 2)) < 4  # one row
    assert box["x"] > logo["x"] + logo["width"]  # beside the logo, not under it
    assert box["height"] < 32  # one line of text
    if viewport == "phone":  # too long for a phone: cut with an ellipsis, the full name kept
        assert name.evaluate("h => h.scrollWidth > h.clientWidth")
        assert name.evaluate("h => getComputedStyle(h).textOverflow") == "ellipsis"
        assert name.get_attribute("title") == LONG_NAME
    assert not has_horizontal_scroll(page)
    screenshot(page, f"checkout-long-name-{viewport}")


def test_a_page_that_keeps_being_declined_locks(app_url, open_page, make_shop) -> None:
    shop = make_shop("Card Testing Target")  # its own merchant: these declines count per shop
    declines = ["4000 0000 0000 0002", "4000 0000 0000 9995", "4000 0000 0000 0069"]
    first = shop.session(100)
    page = open_page("phone")
    page.goto(first["url"])
    fill_card(page, declines[0], "tester@example.com")
    for n in range(5):
        page.get_by_label("Card number").fill(declines[n % 3])
        page.get_by_role("button", name="Pay $1.00").click()
        shop.wait_for_attempts(first, n + 1)
        if n < 4:  # declined (or blocked by the risk rules: a card seen too often), try again
            expect(page.get_by_role("alert")).to_have_text(re.compile(r"\w"))
            expect(page.get_by_role("button", name="Pay $1.00")).to_be_enabled()
    expect(page.get_by_role("heading", name="This payment page is locked")).to_be_visible()
    expect(page.get_by_text(re.compile("Too many declined attempts"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    back = page.get_by_role("link", name="Return to Card Testing Target")
    expect(back).to_have_attribute("href", "https://shop.test/cart")
    screenshot(page, "checkout-locked-phone")
    desk = open_page("desktop")
    desk.goto(first["url"])  # a reload says the same
    expect(desk.get_by_role("heading", name="This payment page is locked")).to_be_visible()
    screenshot(desk, "checkout-locked-desktop")
    read = shop.api.get(f"/api/checkout/sessions/{first['id']}").json()["session"]
    assert read["status"] == "expired"

    # Five more declines from this address on other pages of the shop: the next attempt waits.
    for count in (4, 1):
        other = shop.session(100)
        page.goto(other["url"])
        fill_card(page, declines[0], "tester@example.com")
        for n in range(count):
            page.get_by_role("button", name="Pay $1.00").click()
            shop.wait_for_attempts(other, n + 1)
            expect(page.get_by_role("button", name="Pay $1.00")).to_be_enabled()
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_role("button", name="Pay $1.00").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"Too many declined payments came from your network\. .* try again in \d+ min")
    )
    shop.wait_for_attempts(other, 1)  # refused before any gateway: no new attempt
    screenshot(page, "checkout-throttled-phone")
    desk.goto(other["url"])
    fill_card(desk, CARD_OK, "tester@example.com")
    desk.get_by_role("button", name="Pay $1.00").click()
    expect(desk.get_by_role("alert")).to_have_text(re.compile("from your network"))
    screenshot(desk, "checkout-throttled-desktop")
