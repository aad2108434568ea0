"""A merchant sets up payment links and checkout branding; a customer pays through a link."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, has_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def png_logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 80), (180, 83, 9)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_payment_link_from_portal_to_payment(app_url, signed_in, tmp_path, viewport) -> None:
    page = signed_in(viewport)
    page.goto(f"{app_url}/payment-links")
    expect(page.get_by_role("heading", name="Payment links")).to_be_visible()
    page.get_by_role("button", name="New link").click()
    page.get_by_label("Name customers see").fill(f"Gift card {viewport}")
    page.get_by_label("Price (e.g. 12.50)").fill("25")
    page.get_by_label("Most a customer may buy at once").fill("5")
    page.get_by_role("button", name="Save link").click()
    card = page.locator(".rt-Card", has_text=f"Gift card {viewport}")
    expect(card.get_by_text("$25.00 each (up to 5)")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"portal-payment-links-{viewport}")

    with page.expect_download() as svg:
        card.get_by_role("button", name="QR (SVG)").click()
    assert svg.value.suggested_filename.endswith("-qr.svg")
    svg.value.save_as(tmp_path / "qr.svg")
    assert "<svg" in (tmp_path / "qr.svg").read_text()
    with page.expect_download() as png:
        card.get_by_role("button", name="QR (PNG)").click()
    png.value.save_as(tmp_path / "qr.png")
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")

    url = card.get_by_role("link").inner_text()
    customer = page.context.new_page()
    customer.goto(url)
    customer.get_by_label("Quantity").fill("2")
    customer.get_by_role("button", name="Continue to pay $50.00").click()
    customer.wait_for_url(re.compile(r".*/pay/cs_.*"))
    expect(customer.get_by_role("button", name="Pay $50.00")).to_be_visible()
    customer.close()

    card.get_by_role("button", name="Deactivate").click()
    expect(card.get_by_text("Inactive")).to_be_visible()
    visitor = page.context.new_page()
    visitor.goto(url)
    expect(visitor.get_by_role("heading", name="This payment link is not active")).to_be_visible()
    visitor.close()


def test_customer_chosen_amount(app_url, signed_in) -> None:
    page = signed_in("phone")
    page.goto(f"{app_url}/payment-links")
    page.get_by_role("button", name="New link").click()
    page.get_by_label("Name customers see").fill("Tip jar")
    page.get_by_text("Customer chooses the amount").click()
    page.get_by_label("Minimum").fill("2")
    page.get_by_label("Maximum").fill("100")
    page.get_by_role("button", name="Save link").click()
    card = page.locator(".rt-Card", has_text="Tip jar").first
    url = card.get_by_role("link").inner_text()
    page.goto(url)
    page.get_by_label("Amount (USD)").fill("500")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("between"))
    page.get_by_label("Amount (USD)").fill("7.50")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("button", name="Pay $7.50")).to_be_visible()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_branding_shows_on_checkout(app_url, signed_in, demo, tmp_path, viewport) -> None:
    page = signed_in(viewport)
    page.goto(f"{app_url}/settings/branding")
    expect(page.get_by_role("heading", name="Checkout branding")).to_be_visible()
    page.get_by_label("Brand colour", exact=True).fill("#fde047")
    expect(page.get_by_text(re.compile("dark text: contrast"))).to_be_visible()
    page.get_by_role("button", name="Save colour").click()
    expect(page.get_by_text("Brand colour saved.")).to_be_visible()

    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<svg onload=alert(1)>")
    page.locator("input[type=file]").set_input_files(str(fake))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_text(re.compile("Upload a PNG, JPEG or WebP"))).to_be_visible()

    logo = tmp_path / "logo.png"
    logo.write_bytes(png_logo())
    page.locator("input[type=file]").set_input_files(str(logo))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_text("Logo uploaded.")).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshot(page, f"portal-branding-{viewport}")

    api = httpx.Client(
        base_url=app_url, headers={"Authorization": f"Bearer {demo['test_secret_key']}"}
    )
    session = api.post(
        "/api/checkout/sessions",
        json={
            "amountCents": 1999,
            "currency": "USD",
            "successUrl": "https://shop.test/ok",
            "cancelUrl": "https://shop.test/no",
        },
    ).json()["session"]
    checkout = page.context.new_page()
    checkout.set_viewport_size(VIEWPORTS[viewport])
    checkout.goto(session["url"])
    pay = checkout.get_by_role("button", name="Pay $19.99")
    expect(pay).to_be_visible()
    assert pay.evaluate("b => getComputedStyle(b).color") == "rgb(17, 24, 39)"  # dark on yellow
    expect(
        checkout.get_by_role("img", name=demo.get("name", "Northwind Coffee Roasters"))
    ).to_be_visible()
    screenshot(checkout, f"checkout-branded-{viewport}")
    page.goto(f"{app_url}/settings/branding")
    page.get_by_label("Brand colour", exact=True).fill("#4f46e5")
    page.get_by_role("button", name="Save colour").click()
    expect(page.get_by_text("Brand colour saved.")).to_be_visible()
