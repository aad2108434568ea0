"""The portal's Subscriptions and Invoices pages and the dashboard's billing figures
(backend/services/billing/{subscription_pages,invoice_pages,metrics}.py), on SQLite and
PostgreSQL, over test clocks: rows in words and money ("Pro plan x 2", "$30.00 every month",
"Past due"), the detail pages' facts, invoices and timeline, every action through the engine,
the permission matrix, the live-mode step-up, and MRR, churn and recovery from real renewals.
Subscriptions and invoices are made through the REST API (the engine's functions), never
written by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.models.enums import Role
from backend.services.billing import invoice_pages, metrics, subscription_pages
from backend.services.identity.step_up import StepUpRequired
from backend.services.identity.viewers import Viewer, viewer_of
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.billing_support import ok
from tests.integration.identity_support import member

JAN_31 = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
DAY = 86_400


@pytest.fixture
def shop(configured_app: str) -> Merchant:
    from backend.api import create_app

    return new_merchant(TestClient(create_app()), "Harbour Tea")


def viewer(merchant: Merchant, role: Role = Role.ADMIN) -> Viewer:
    found = viewer_of(member(merchant.merchant_id, role))
    assert found is not None
    return found


def plan(shop: Merchant, amount: int = 1_500, interval: str = "month", name: str = "Pro plan"):  # type: ignore[no-untyped-def]
    product = ok(shop.post("/api/products", {"name": name}), 201)["product"]
    body = {
        "productId": product["id"],
        "unitAmountCents": amount,
        "currency": "USD",
        "recurring": {"interval": interval, "intervalCount": 1},
    }
    return ok(shop.post("/api/prices", body), 201)["price"]["id"]


def new_clock(shop: Merchant, at: datetime = JAN_31) -> str:
    body = {"frozenTime": int(at.timestamp())}
    return ok(shop.post("/api/test_clocks", body), 201)["testClock"]["id"]


def customer(shop: Merchant, clock: str, name: str = "Ada", token: str = "pm_card_visa") -> str:
    body = {"email": f"{name.lower()}@example.com", "name": name, "testClock": clock}
    found = ok(shop.post("/api/customers", body), 201)["customer"]["id"]
    card = {"type": "card", "token": token}
    ok(shop.post(f"/api/customers/{found}/payment_methods", card), 201)
    return found


def card(shop: Merchant, customer_id: str, token: str) -> str:
    body = {"type": "card", "token": token}
    return ok(shop.post(f"/api/customers/{customer_id}/payment_methods", body), 201)[
        "paymentMethod"
    ]["id"]


def subscribe(shop: Merchant, customer_id: str, price: str, quantity: int = 1) -> str:
    body = {"customerId": customer_id, "items": [{"priceId": price, "quantity": quantity}]}
    return ok(shop.post("/api/subscriptions", body), 201)["subscription"]["id"]


def advance(shop: Merchant, clock: str, to: datetime) -> None:
    ok(shop.post(f"/api/test_clocks/{clock}/advance", {"frozenTime": int(to.timestamp())}))


def test_the_list_and_the_page_in_words(shop: Merchant) -> None:
    clock = new_clock(shop)
    ada = customer(shop, clock)
    sub = subscribe(shop, ada, plan(shop), quantity=2)
    admin = viewer(shop)

    page = subscription_pages.subscription_list(admin)
    [row] = page.rows
    assert page.next_cursor is None
    assert (row.customer, row.plan, row.amount, row.status_label, row.tone) == (
        "Ada",
        "Pro plan × 2",  # noqa: RUF001
        "$30.00 every month",
        "Active",
        "good",
    )
    assert row.renewal == "Feb 28, 2025"
    assert subscription_pages.subscription_list(admin, status="past_due").rows == []
    assert subscription_pages.subscription_list(admin, status="active").rows == [row]
    with pytest.raises(ValidationFailed):
        subscription_pages.subscription_list(admin, status="everything")

    detail = subscription_pages.subscription_page(admin, sub)
    assert [(i.product, i.price, i.quantity, i.amount) for i in detail.items] == [
        ("Pro plan", "$15.00 every month", 2, "$30.00")
    ]
    facts = {f.label: f.value for f in detail.facts}
    assert facts["Current period"] == "Jan 31, 2025 to Feb 28, 2025"
    assert facts["Trial"] == "No trial"
    assert facts["Card charged"] == "Visa •••• 4242 (the customer's default)"
    [invoice] = detail.invoices
    assert (invoice.status_label, invoice.amount_paid) == ("Paid", "$30.00")
    assert invoice.number.endswith("-0001")
    titles = [e.title for e in detail.timeline]
    assert "Subscription started" in titles and "Invoice paid" in titles
    assert all("_" not in t for t in titles)
    assert detail.can_manage and detail.can_cancel and detail.can_pause
    assert not detail.can_resume and not detail.can_undo_cancel

    # The customer's page lists it; another merchant never sees it.
    assert [r.id for r in subscription_pages.customer_subscriptions(admin, ada).rows] == [sub]
    other = viewer(new_merchant(shop.client, "Elsewhere"))
    with pytest.raises(NotFound):
        subscription_pages.subscription_page(other, sub)
    assert subscription_pages.subscription_list(other).rows == []


def test_every_action_through_the_engine(shop: Merchant) -> None:
    clock = new_clock(shop)
    sub = subscribe(shop, customer(shop, clock), plan(shop))
    admin = viewer(shop)
    [item] = subscription_pages.subscription_page(admin, sub).items

    subscription_pages.change_quantity(admin, sub, item.id, "3")
    assert subscription_pages.subscription_page(admin, sub).items[0].quantity == 3
    for bad in ("0", "x", "", "2000000"):
        with pytest.raises(ValidationFailed):
            subscription_pages.change_quantity(admin, sub, item.id, bad)
    with pytest.raises(NotFound):
        subscription_pages.change_quantity(admin, sub, "si_nope", "2")

    subscription_pages.pause(admin, sub)
    paused = subscription_pages.subscription_page(admin, sub)
    assert paused.row.status_label == "Paused" and paused.row.renewal == "Collection paused"
    assert paused.can_resume and not paused.can_pause
    subscription_pages.resume(admin, sub)
    assert subscription_pages.subscription_page(admin, sub).row.status_label == "Active"

    subscription_pages.cancel(admin, sub, at_period_end=True)
    ending = subscription_pages.subscription_page(admin, sub)
    assert ending.row.renewal == "Cancels Feb 28, 2025"
    assert ending.can_undo_cancel and not ending.can_cancel_at_period_end
    assert "Cancellation asked" in {f.label for f in ending.facts}
    said = [(e.title, e.detail) for e in ending.timeline]
    assert said[0] == ("Subscription changed", "Set to cancel at the period's end")
    assert ("Subscription changed", "Collection paused") in said
    assert ("Subscription changed", "Incomplete → Active") in said
    assert any(t == "Invoice paid" and d.startswith("Invoice ") for t, d in said)
    subscription_pages.keep(admin, sub)
    assert subscription_pages.subscription_page(admin, sub).row.renewal == "Feb 28, 2025"

    for role in (Role.ANALYST, Role.DEVELOPER, Role.SUPPORT):
        with pytest.raises(PermissionDenied):
            subscription_pages.cancel(viewer(shop, role), sub, at_period_end=False)
        assert not subscription_pages.subscription_page(viewer(shop, role), sub).can_manage

    subscription_pages.cancel(admin, sub, at_period_end=False)
    ended = subscription_pages.subscription_page(admin, sub)
    assert ended.row.status_label == "Canceled"
    assert ended.row.renewal == "Ended Jan 31, 2025"
    assert {f.label: f.value for f in ended.facts}["Why it ended"] == "Canceled on request"
    assert not (ended.can_cancel or ended.can_pause or ended.can_change_quantity)
    with pytest.raises(Conflict):
        subscription_pages.cancel(admin, sub, at_period_end=False)


def test_live_mode_asks_a_fresh_second_factor_to_end_or_write_off(shop: Merchant) -> None:
    admin = viewer(shop)
    live = replace(admin, ctx=replace(admin.ctx, livemode=True))
    with pytest.raises(StepUpRequired):
        subscription_pages.cancel(live, "sub_any", at_period_end=False)
    with pytest.raises(StepUpRequired):
        invoice_pages.void(live, "in_any")
    with pytest.raises(StepUpRequired):
        invoice_pages.mark_uncollectible(live, "in_any")
    with pytest.raises(NotFound):  # ending at the period's end is not sensitive
        subscription_pages.cancel(live, "sub_any", at_period_end=True)


def test_a_failed_renewal_retried_written_off_and_a_proration_credit(shop: Merchant) -> None:
    clock = new_clock(shop)
    ada = customer(shop, clock)
    sub = subscribe(shop, ada, plan(shop), quantity=2)
    admin = viewer(shop)
    failing = card(shop, ada, "pm_card_chargeCustomerFail")
    ok(shop.post(f"/api/subscriptions/{sub}", {"defaultPaymentMethod": failing}))
    [item] = subscription_pages.subscription_page(admin, sub).items
    advance(shop, clock, JAN_31 + timedelta(days=14))
    subscription_pages.change_quantity(admin, sub, item.id, "1")  # a credit for half a month
    advance(shop, clock, JAN_31 + timedelta(days=29))  # the Feb 28 renewal fails

    row = subscription_pages.subscription_list(admin).rows[0]
    assert (row.status_label, row.tone) == ("Past due", "warning")
    [open_row] = invoice_pages.invoice_list(admin, status="open").rows
    assert (open_row.status_label, open_row.customer) == ("Open", "Ada")
    page = invoice_pages.invoice_page(admin, open_row.id)
    facts = {f.label: f.value for f in page.attempts}
    assert facts["Payment attempts"] == "1"
    assert facts["Next retry"].startswith("Mar 3, 2025")
    assert "Last failure" in facts
    assert {f.label: f.value for f in page.facts}["Billed for"] == "Renewal"
    credits = [line for line in page.lines if line.credit]
    assert credits and all(line.amount.startswith("-$") for line in credits)
    assert page.hosted_url.startswith("http") and page.pdf_url.endswith("/pdf")
    assert page.can_retry and page.can_void and page.can_mark_uncollectible

    again = invoice_pages.retry_payment(admin, open_row.id)
    assert not again.paid and again.message.startswith("The payment failed")
    assert invoice_pages.invoice_page(admin, open_row.id).attempts[0].value == "2"

    invoice_pages.mark_uncollectible(admin, open_row.id)
    written_off = invoice_pages.invoice_page(admin, open_row.id)
    assert written_off.row.status_label == "Uncollectible" and written_off.row.tone == "bad"
    assert not written_off.can_mark_uncollectible and written_off.can_retry

    good = card(shop, ada, "pm_card_visa")
    ok(shop.post(f"/api/subscriptions/{sub}", {"defaultPaymentMethod": good}))
    paid = invoice_pages.retry_payment(admin, open_row.id)
    assert paid.paid and paid.message.startswith("Paid: $")
    done = invoice_pages.invoice_page(admin, open_row.id)
    assert done.row.status_label == "Paid"
    assert not (done.can_retry or done.can_void or done.can_mark_uncollectible)
    with pytest.raises(PermissionDenied):
        invoice_pages.void(viewer(shop, Role.ANALYST), open_row.id)

    # Recovery: the renewal failed in the last 30 days and is paid now.
    with session_scope(readonly=True) as db:
        found = metrics.billing_metrics(db, admin.scope, now=JAN_31 + timedelta(days=29, hours=1))
    assert (found.recovery.part, found.recovery.whole) == (1, 1)


def test_void_an_open_invoice(shop: Merchant) -> None:
    clock = new_clock(shop)
    ada = customer(shop, clock, token="pm_card_chargeCustomerFail")
    sub = subscribe(shop, ada, plan(shop))  # the first charge fails: incomplete, open invoice
    admin = viewer(shop)
    [row] = invoice_pages.invoice_list(admin, status="open").rows
    invoice_pages.void(admin, row.id)
    assert invoice_pages.invoice_page(admin, row.id).row.status_label == "Void"
    assert [r.id for r in invoice_pages.invoice_list(admin, status="void").rows] == [row.id]
    detail = subscription_pages.subscription_page(admin, sub)
    assert detail.row.status_label == "Incomplete" and not detail.can_pause
    with pytest.raises(ValidationFailed):
        invoice_pages.invoice_list(admin, status="lost")


def test_mrr_active_and_churn_from_real_subscriptions(shop: Merchant) -> None:
    clock = new_clock(shop)
    monthly = plan(shop, 1_500, "month")
    yearly = plan(shop, 12_000, "year", name="Annual")
    first = subscribe(shop, customer(shop, clock, "Ada"), monthly, quantity=2)
    subscribe(shop, customer(shop, clock, "Ben"), yearly)
    subscribe(shop, customer(shop, clock, "Cy"), monthly)
    admin = viewer(shop)
    with session_scope(readonly=True) as db:
        found = metrics.billing_metrics(db, admin.scope, now=JAN_31)
    assert found.mrr == {"USD": 3_000 + 1_000 + 1_500}
    assert found.active == 3 and found.churn.value is None  # none billed 30 days before

    later = JAN_31 + timedelta(days=35)
    advance(shop, clock, later)
    subscription_pages.cancel(admin, first, at_period_end=False)
    with session_scope(readonly=True) as db:
        found = metrics.billing_metrics(db, admin.scope, now=later)
    assert found.mrr == {"USD": 2_500} and found.active == 2
    assert (found.churn.part, found.churn.whole) == (1, 3)
    assert found.churn.percent() == "33.3%"
    shown = {f.label: f.value for f in metrics.figures(found)}
    assert shown["Monthly recurring revenue"] == "$25.00"
    assert shown["Active subscriptions"] == "2"
    assert shown["Failed renewals recovered, last 30 days"] == "—"
    # Test mode and live mode are apart.
    live = replace(admin.scope, livemode=True)
    with session_scope(readonly=True) as db:
        assert metrics.billing_metrics(db, live, now=later).mrr == {}
