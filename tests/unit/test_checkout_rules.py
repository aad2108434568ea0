"""Card testing limits, receipt times and a payment link's totals: the rules, time driven by
time-machine (the `limits` store reads the clock), no sleeps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from backend.models import Payment, PaymentLink
from backend.models.enums import PaymentStatus
from backend.services.checkout import card_testing as declines
from backend.services.checkout import payment_links
from backend.services.checkout.i18n import format_moment, format_wait, time_zone

T0 = datetime(2026, 3, 12, 14, 5, tzinfo=UTC)
LIMIT = 10  # checkout_declines.ADDRESS_DECLINES: 10 per 10 minutes
NNBSP = "\u202f"  # French groups thousands with a narrow no-break space


@pytest.fixture
def ip() -> str:
    """An address of its own: the per-process `limits` store outlives a test."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def test_the_address_limit_and_its_window(ip: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(LIMIT - 1):
            assert declines.count_address_decline(ip, "m_1", False) == 0
        assert declines.address_wait(ip, "m_1", False) == 0  # nine: a customer still pays
        assert declines.count_address_decline(ip, "m_1", False) == 600  # the tenth
        assert declines.address_wait(ip, "m_1", False) == 600
        clock.shift(timedelta(minutes=9, seconds=59))
        assert declines.address_wait(ip, "m_1", False) == 1
        clock.shift(timedelta(seconds=2))  # the first decline left the window
        assert declines.address_wait(ip, "m_1", False) == 0


def test_live_mode_counts_across_merchants_test_mode_per_merchant(ip: str) -> None:
    with time_machine.travel(T0, tick=False):
        for n in range(LIMIT):
            declines.count_address_decline(ip, f"m_{n}", True)
            declines.count_address_decline(ip, f"m_{n}", False)
        assert declines.address_wait(ip, "m_other", True) > 0
        assert declines.address_wait(ip, "m_other", False) == 0
        assert declines.address_wait("192.0.2.200", "m_other", True) == 0


def test_ipv6_counts_per_64_block_and_no_address_is_never_throttled() -> None:
    block = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:1"
    with time_machine.travel(T0, tick=False):
        for n in range(LIMIT):
            declines.count_address_decline(f"{block}::{n + 1:x}", "m_1", True)
            declines.count_address_decline(None, "m_1", True)
        assert declines.address_wait(f"{block}::ffff", "m_1", True) > 0
        assert declines.address_wait(None, "m_1", True) == 0


@pytest.mark.parametrize(
    ("status", "code", "counts"),
    [
        (PaymentStatus.FAILED, "card_declined", True),
        (PaymentStatus.FAILED, "insufficient_funds", True),
        (PaymentStatus.FAILED, "authentication_failed", True),
        (PaymentStatus.FAILED, "risk_blocked", True),
        (PaymentStatus.FAILED, "gateway_unavailable", False),
        (PaymentStatus.FAILED, "gateway_outcome_unknown", False),
        (PaymentStatus.FAILED, "gateway_timeout", False),
        (PaymentStatus.SUCCEEDED, None, False),
    ],
)
def test_what_counts_as_a_decline(status: str, code: str | None, counts: bool) -> None:
    payment = Payment(id="pay_1", merchant_id="m_1", currency="USD", amount=100)
    payment.status, payment.failure_code = status, code
    assert declines.is_decline(payment) is counts


@pytest.mark.parametrize(
    ("locale", "zone", "text"),
    [
        ("de_DE", "Europe/Berlin", "12. März 2026, 15:05 MEZ"),
        ("en_US", "America/New_York", "March 12, 2026, 10:05\u202fAM EDT"),
        ("fr_FR", "Asia/Tokyo", "12 mars 2026, 23:05 +0900"),
        ("es_ES", "Europe/Madrid", "12 de marzo de 2026, 15:05 CET"),
        ("en_US", "Not/A_Zone", "March 12, 2026, 2:05\u202fPM UTC"),
        ("de_DE", "", "12. März 2026, 14:05 UTC"),
    ],
)
def test_receipt_time_in_the_customers_language_and_zone(locale: str, zone: str, text: str) -> None:
    assert format_moment(T0, locale, zone) == text


def test_time_zones_the_browser_names() -> None:
    assert time_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("../../etc/passwd", "x" * 100, None, 7, "Mars/Olympus"):
        assert time_zone(bad) == "UTC"
    assert format_wait(540, "de_DE") == "9 Minuten"
    assert format_wait(45, "en_US") == "45 seconds"


@pytest.mark.parametrize(
    ("currency", "unit", "locale", "totals"),
    [
        ("JPY", 1500, "en_US", ["¥1,500", "¥3,000", "¥4,500"]),
        ("JPY", 1500, "de_DE", ["1.500\xa0¥", "3.000\xa0¥", "4.500\xa0¥"]),
        ("KWD", 1250, "en_US", ["KWD1.250", "KWD2.500", "KWD3.750"]),
        ("KWD", 1250, "de_DE", ["1,250\xa0KWD", "2,500\xa0KWD", "3,750\xa0KWD"]),
        ("EUR", 12345, "fr_FR", ["123,45\xa0€", "246,90\xa0€", "370,35\xa0€"]),
        (
            "EUR",
            123456,
            "fr_FR",
            [f"1{NNBSP}234,56\xa0€", f"2{NNBSP}469,12\xa0€", f"3{NNBSP}703,68\xa0€"],
        ),
        ("USD", 2500, "en_US", ["$25.00", "$50.00", "$75.00"]),
    ],
)
def test_a_links_total_for_each_quantity(
    currency: str, unit: int, locale: str, totals: list[str]
) -> None:
    link = PaymentLink(
        id="plink_1",
        merchant_id="m_1",
        name="Tea",
        currency=currency,
        unit_amount=unit,
        max_quantity=3,
    )
    assert payment_links.quantity_totals(link, locale) == totals
    link.unit_amount, link.min_amount, link.max_amount, link.max_quantity = None, 100, 900, 1
    assert payment_links.quantity_totals(link, locale) == []
