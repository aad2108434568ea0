"""The customer's billing pages' service (backend.services.billing.customer_pages) and the
invoice PDF routes, over test clocks, on SQLite and PostgreSQL: the portal shows subscriptions,
cards and invoices in words; a customer adds a card (it becomes the default and pays their
subscriptions), pays an overdue invoice with it, cancels at period end when the merchant
allows it; the hosted invoice page pays with a card that needs 3-D Secure and the invoice ends
paid; PDFs through the signed link and the API key; expired links show nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import BillingPortalSession, Customer, Payment, utcnow
from backend.models.billing import Invoice, Subscription
from backend.services.billing import customer_pages, links
from backend.services.billing.settings import update_billing_settings
from backend.services.context import Scope
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.test_billing_engine import (
    DAY,
    JAN_31,
    advance,
    clock_customer,
    invoices_of,
    ok,
    plan,
    subscribe,
    subscription,
)

CODES = ("past_due", "trialing", "uncollectible", "incomplete", "requires_action", "pm_")


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Harbour Tea")


def portal_secret(shop: Merchant, customer: str, return_url: str | None = None) -> str:
    body: dict[str, Any] = {"customerId": customer}
    if return_url:
        body["returnUrl"] = return_url
    url = ok(shop.post("/api/billing_portal/sessions", body), 201)["session"]["url"]
    return url.rsplit("/", 1)[1]


def overdue(shop: Merchant) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """A subscription whose Feb 28 renewal failed: (clock, customer, subscription, invoice)."""
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    failing = ok(
        shop.post(
            f"/api/customers/{customer}/payment_methods",
            {"type": "card", "token": "pm_card_chargeCustomerFail"},
        ),
        201,
    )["paymentMethod"]["id"]
    ok(shop.post(f"/api/subscriptions/{sub['id']}", {"defaultPaymentMethod": failing}))
    advance(shop, clock, JAN_31 + 29 * DAY)
    assert subscription(shop, sub["id"])["status"] == "past_due"
    return clock, customer, sub, invoices_of(shop, sub["id"])[-1]


def no_codes(view: object) -> None:
    text = repr(asdict(view))  # type: ignore[call-overload]
    for code in CODES:
        assert code not in text.replace("pm_", "") or code == "pm_", (code, text)


def test_the_portal_in_words(shop: Merchant) -> None:
    _, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    secret = portal_secret(shop, customer, "https://shop.example/account")
    view = customer_pages.open_portal(secret)
    assert view.brand.name == "Harbour Tea" and view.customer == "Ada"
    assert view.return_url == "https://shop.example/account" and view.test_mode is True
    [row] = view.subscriptions
    assert row.id == sub["id"] and row.plan == "Pro plan"
    assert row.amount == "$15.00 per month" and row.status == "Active"
    assert row.when == "Renews on Feb 28, 2025" and row.can_cancel and not row.overdue
    [card] = view.cards
    assert card.label == "Visa •••• 4242" and card.default and card.expires.startswith("Expires ")
    [invoice] = view.invoices
    assert invoice.status == "Paid" and invoice.amount == "$15.00" and not invoice.payable
    assert invoice.date == "Jan 31, 2025" and invoice.number
    token = links.invoice_token(invoice.id)
    assert invoice.hosted_url == f"/invoice/{token}"
    assert invoice.pdf_url == f"/api/invoices/hosted/{token}/pdf"
    no_codes(view)


def test_an_overdue_invoice_is_paid_from_the_portal_with_a_new_card(shop: Merchant) -> None:
    _, customer, sub, renewal = overdue(shop)
    secret = portal_secret(shop, customer)
    view = customer_pages.open_portal(secret)
    assert view.subscriptions[0].status == "Payment overdue" and view.subscriptions[0].overdue
    due = next(i for i in view.invoices if i.id == renewal["id"])
    assert due.status == "Due" and due.payable
    no_codes(view)

    declined = customer_pages.pay_from_portal(
        secret, renewal["id"], token="4000000000000002", ip_address="203.0.113.7"
    )
    assert not declined.ok and declined.message == "Your card was declined. Try another card."

    paid = customer_pages.pay_from_portal(
        secret, renewal["id"], token="4242424242424242", ip_address="203.0.113.7"
    )
    assert paid.ok, paid
    after = subscription(shop, sub["id"])
    assert after["status"] == "active"
    invoice = ok(shop.get(f"/api/invoices/{renewal['id']}"))["invoice"]
    assert invoice["status"] == "paid"
    with session_scope(readonly=True) as db:
        row = db.get(Subscription, sub["id"])
        cus = db.get(Customer, customer)
        assert row is not None and cus is not None
        assert row.default_payment_method_id == cus.default_payment_method_id
        payment = db.get(Payment, invoice["paymentId"]) if invoice.get("paymentId") else None
        assert payment is None or payment.card_last4 == "4242"
    view = customer_pages.open_portal(secret)
    assert [c.label for c in view.cards if c.default] == ["Visa •••• 4242"]
    assert view.subscriptions[0].status == "Active"


def test_adding_a_card_makes_it_the_default_of_the_customer_and_subscriptions(
    shop: Merchant,
) -> None:
    _, customer, sub, _ = overdue(shop)
    secret = portal_secret(shop, customer)
    refused = customer_pages.add_card(secret, "4000000000000002", ip_address=None)
    assert not refused.ok and "declined" in refused.message
    added = customer_pages.add_card(secret, "5555555555554444", ip_address=None)
    assert added.ok
    view = customer_pages.open_portal(secret)
    default = [c for c in view.cards if c.default]
    assert [c.label for c in default] == ["Mastercard •••• 4444"]
    with session_scope(readonly=True) as db:
        row = db.get(Subscription, sub["id"])
        assert row is not None and row.default_payment_method_id == default[0].id
    # Back to another saved card.
    other = next(c for c in view.cards if not c.default)
    assert customer_pages.make_default(secret, other.id).ok
    assert [c.id for c in customer_pages.open_portal(secret).cards if c.default] == [other.id]


def test_cancel_at_period_end_only_when_allowed(shop: Merchant) -> None:
    _, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    secret = portal_secret(shop, customer)
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        update_billing_settings(db, scope, portal_allows_cancel=False)
    assert customer_pages.open_portal(secret).subscriptions[0].can_cancel is False
    from backend.core.errors import Conflict

    with pytest.raises(Conflict):
        customer_pages.cancel(secret, sub["id"])
    assert subscription(shop, sub["id"])["cancelAtPeriodEnd"] is False

    with session_scope() as db:
        update_billing_settings(db, scope, portal_allows_cancel=True)
    done = customer_pages.cancel(secret, sub["id"])
    assert done.ok and "Feb 28, 2025" in done.message
    after = subscription(shop, sub["id"])
    assert after["cancelAtPeriodEnd"] is True and after["status"] == "active"
    row = customer_pages.open_portal(secret).subscriptions[0]
    assert row.when == "Canceled: ends on Feb 28, 2025, nothing more is charged"
    assert row.status == "Active" and not row.can_cancel


def test_another_customers_subscription_or_invoice_is_not_found(shop: Merchant) -> None:
    from backend.core.errors import NotFound

    _, _, sub, renewal = overdue(shop)
    other = ok(shop.post("/api/customers", {"email": "bob@example.com"}), 201)["customer"]["id"]
    secret = portal_secret(shop, other)
    # Not this customer's: refused in words, the page stays (the link itself is fine).
    for outcome in (
        customer_pages.cancel(secret, sub["id"]),
        customer_pages.pay_from_portal(secret, renewal["id"], token="4242424242424242"),
        customer_pages.finish_from_portal(secret, renewal["id"], True),
        customer_pages.make_default(secret, "pm_not_theirs"),
        customer_pages.cancel(secret, "sub_nothing"),
    ):
        assert not outcome.ok and outcome.message == customer_pages.GONE
    assert customer_pages.open_portal(secret).invoices == []
    assert subscription(shop, sub["id"])["cancelAtPeriodEnd"] is False
    with pytest.raises(NotFound):  # a link that does not open raises
        customer_pages.cancel("not-a-link", sub["id"])


def test_hosted_invoice_paid_with_3ds(shop: Merchant) -> None:
    _, _, sub, renewal = overdue(shop)
    token = links.invoice_token(renewal["id"])
    view = customer_pages.open_invoice(token)
    assert view.status == "Due" and view.payable and not view.paid
    assert view.amount_due == "$15.00" and view.total == "$15.00"
    assert [line.amount for line in view.lines] == ["$15.00"]
    assert view.billed_to == "Ada · ada@example.com"

    started = customer_pages.pay_hosted_invoice(token, "4000002760003184", ip_address=None)
    assert started.needs_action and not started.ok, started
    assert customer_pages.open_invoice(token).needs_action

    failed = customer_pages.finish_hosted_action(token, False)
    assert not failed.ok and "confirm" in failed.message
    again = customer_pages.open_invoice(token)
    assert again.payable and not again.needs_action

    started = customer_pages.pay_hosted_invoice(token, "4000002760003184", ip_address=None)
    assert started.needs_action
    done = customer_pages.finish_hosted_action(token, True)
    assert done.ok, done
    view = customer_pages.open_invoice(token)
    assert view.paid and view.status == "Paid" and view.paid_with == "Visa •••• 3184"
    assert view.amount_due == "$0.00" and view.amount_paid == "$15.00"
    assert ok(shop.get(f"/api/invoices/{renewal['id']}"))["invoice"]["status"] == "paid"
    assert subscription(shop, sub["id"])["status"] == "active"
    # Paying again is not possible.
    again = customer_pages.pay_hosted_invoice(token, "4242424242424242", ip_address=None)
    assert again.ok and again.message == "This invoice is already settled."


def test_proration_credits_show_as_negative_lines(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    price = plan(shop, 3_000)
    sub = subscribe(shop, customer, price)
    advance(shop, clock, JAN_31 + 10 * DAY)
    body = {"items": [{"priceId": price, "quantity": 3}], "prorationBehavior": "always_invoice"}
    ok(shop.post(f"/api/subscriptions/{sub['id']}", body))
    latest = invoices_of(shop, sub["id"])[-1]
    view = customer_pages.open_invoice(links.invoice_token(latest["id"]))
    credits = [line for line in view.lines if line.credit]
    assert len(credits) == 1 and credits[0].amount.startswith("-$")
    assert len(view.lines) == 2 and view.paid


def test_links_that_are_not_valid_show_nothing(shop: Merchant) -> None:
    from backend.core.errors import NotFound

    _, customer = clock_customer(shop)
    secret = portal_secret(shop, customer)
    with session_scope() as db:
        row = db.exec(
            select(BillingPortalSession).where(BillingPortalSession.customer_id == customer)
        ).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
    for bad in (secret, "nope", ""):
        with pytest.raises(NotFound):
            customer_pages.open_portal(bad)
    for bad in ("in_x.0000", "nope", "x" * 500):
        with pytest.raises(NotFound):
            customer_pages.open_invoice(bad)


def test_invoice_pdfs(client: TestClient, shop: Merchant) -> None:
    _, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    invoice = invoices_of(shop, sub["id"])[0]
    token = links.invoice_token(invoice["id"])
    public = client.get(f"/api/invoices/hosted/{token}/pdf")
    assert public.status_code == 200, public.text
    assert public.headers["content-type"] == "application/pdf"
    assert public.content.startswith(b"%PDF-") and len(public.content) > 1000
    number = invoice["number"]
    assert public.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert "no-store" in public.headers["cache-control"]
    assert invoice["pdfUrl"].endswith(f"/api/invoices/hosted/{token}/pdf")

    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (forged, "nope", invoice["id"]):
        response = client.get(f"/api/invoices/hosted/{bad}/pdf")
        assert response.status_code == 404, bad

    mine = shop.client.get(f"/api/invoices/{invoice['id']}/pdf", headers=shop.headers())
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF-")
    assert client.get(f"/api/invoices/{invoice['id']}/pdf").status_code == 401
    other = new_merchant(client, "Other")
    theirs = other.client.get(f"/api/invoices/{invoice['id']}/pdf", headers=other.headers())
    assert theirs.status_code == 404
    with session_scope(readonly=True) as db:
        assert db.get(Invoice, invoice["id"]) is not None


def test_with_stripe_the_pages_take_no_card_numbers(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe's card details go through its Payment Element only: the pages say so rather
    than show the sandbox form."""
    from tests.conftest import _reset_caches

    _, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    secret = portal_secret(shop, customer)
    token = links.invoice_token(invoices_of(shop, sub["id"])[0]["id"])
    assert customer_pages.open_portal(secret).card_entry is True
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_unused")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_unused")
    _reset_caches()
    assert customer_pages.open_portal(secret).card_entry is False
    assert customer_pages.open_invoice(token).card_entry is False
