"""Checkout building blocks: languages, the card re-check, brand colours, logos, QR codes."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from backend.core.errors import ValidationFailed
from backend.models import PaymentLink
from backend.services.checkout import branding, payment_links
from backend.services.checkout.card_checks import card_problems
from backend.services.checkout.i18n import LANGUAGES, MESSAGES, negotiate, t

TODAY = date(2026, 11, 22)


def test_every_message_is_translated() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        placeholders = {frozenset(_fields(text)) for text in entry.values()}
        assert len(placeholders) == 1, key


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", "es_ES"),
        ("es-MX", "es_MX"),
        ("fr", "fr_FR"),
        ("de-DE,fr-CA;q=0.7", "de_DE"),
        ("de-AT", "de_AT"),
        ("it-IT,fr-CA;q=0.7", "fr_CA"),
        ("it-IT", "en_US"),
        ("", "en_US"),
        ("en;q=0.1,fr;q=0.9", "fr_FR"),
        ("x" * 5000, "en_US"),
    ],
)
def test_locale_from_accept_language(header: str, locale: str) -> None:
    assert negotiate(header) == locale


def test_translation_fills_placeholders() -> None:
    assert t("pay_button", "es_ES", amount="12,00 €") == "Pagar 12,00 €"


def test_card_recheck_names_fields_never_numbers() -> None:
    ok = card_problems(
        number="4242 4242 4242 4242", expiry="12/34", cvc="123", name="A", postal="1", today=TODAY
    )
    assert ok == {}
    bad = card_problems(
        number="4242 4242 4242 4241", expiry="10/26", cvc="1234", name=" ", postal="", today=TODAY
    )
    assert bad == {
        "cc-name": "err_name",
        "cc-number": "err_number",
        "cc-exp": "err_expired",
        "cc-csc": "err_cvc",
        "postal": "err_postal",
    }
    amex = card_problems(
        number="378282246310005", expiry="11 / 2026", cvc="1234", name="A", postal="1", today=TODAY
    )
    assert amex == {}


@pytest.mark.parametrize(
    ("color", "text"),
    [
        ("#4f46e5", branding.WHITE),
        ("#fde047", branding.INK),
        ("#FFF", branding.INK),
        ("000", branding.WHITE),
    ],
)
def test_pay_button_text_always_meets_aa(color: str, text: str) -> None:
    colors = branding.button_colors(color)
    assert colors.text == text and colors.ratio >= 4.5


@pytest.mark.parametrize("value", ["red", "#12345", "#gggggg", "", None, 7])
def test_bad_colours_are_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        branding.normalise_color(value)


def _image(kind: str, size: tuple[int, int] = (400, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, format=kind)
    return out.getvalue()


def test_logo_sniffing() -> None:
    assert branding.sniff(_image("PNG")) == "png"
    assert branding.sniff(_image("JPEG")) == "jpeg"
    assert branding.sniff(_image("WEBP")) == "webp"
    assert branding.sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert branding.sniff(b"GIF89a....") is None


def test_logo_upload_rules(db) -> None:  # type: ignore[no-untyped-def]
    from backend.services.identity import accounts

    created = accounts.create_merchant(
        db, email="brand@shop.test", password="a long passphrase 1", name="Shop"
    )
    merchant_id = created.merchant.id
    logo = branding.upload_logo(db, merchant_id, _image("PNG", (1200, 300)))
    assert (logo.width, logo.height) == (480, 120) and logo.content_type == "image/png"
    for data, code in [
        (b"<svg onload=alert(1)>", "unsupported_file_type"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "unreadable_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * branding.MAX_LOGO_BYTES, "file_too_large"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            branding.upload_logo(db, merchant_id, data)
        assert caught.value.code == code


def test_qr_codes_encode_the_link() -> None:
    link = PaymentLink(
        id="plink_test", merchant_id="m", name="Tea", currency="USD", unit_amount=500
    )
    svg = payment_links.qr_svg(link)
    assert svg.startswith("<svg") and "Tea" in svg
    assert payment_links.qr_png(link).startswith(b"\x89PNG")
