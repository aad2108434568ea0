"""The billing engine over test clocks, through the REST API, on SQLite and PostgreSQL: a year
of monthly renewals with month-end anchors, a trial that converts, a card that starts failing,
is retried on the dunning schedule and recovers when the customer pays with another card, the
end of dunning (canceled or unpaid), cancellation at period end, proration at once, pausing,
and every charge booked through the one charge path (a payment per paid invoice)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.models import OutboundEmail, Payment
from backend.models.billing import Invoice
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.billing_support import (
    DAY,
    JAN_31,
    advance,
    clock_customer,
    emails_to,
    events_of,
    invoices_of,
    ok,
    plan,
    subscribe,
    subscription,
)


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Harbour Tea")


def test_a_year_of_monthly_renewals_keeps_the_month_end_anchor(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    assert sub["status"] == "active"
    assert sub["currentPeriodEnd"].startswith("2025-02-28T09:00")

    advance(shop, clock, JAN_31 + 366 * DAY)

    found = invoices_of(shop, sub["id"])
    assert len(found) == 13  # the first period and twelve renewals
    assert all(i["status"] == "paid" and i["amountPaidCents"] == 1_500 for i in found)
    assert [i["periodStart"][:10] for i in found[:4]] == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
        "2025-04-30",
    ]
    numbers = [int(i["number"].rsplit("-", 1)[1]) for i in found]
    assert numbers == list(range(1, 14))  # sequential, no gaps
    with session_scope(readonly=True) as db:
        paid = db.exec(
            select(func.count()).where(
                Payment.merchant_id == shop.merchant_id, Payment.status == "succeeded"
            )
        ).one()
        assert paid == 13  # one charge per invoice, through the charge path
    after = subscription(shop, sub["id"])
    assert after["status"] == "active"
    assert after["currentPeriodStart"].startswith("2026-01-31")
    assert emails_to(shop.merchant_id, "billing_receipt") == 13


def test_a_trial_warns_then_converts(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop, 2_000), trialDays=14)
    assert sub["status"] == "trialing"
    first = invoices_of(shop, sub["id"])
    assert [(i["status"], i["amountDueCents"]) for i in first] == [("paid", 0)]

    advance(shop, clock, JAN_31 + 12 * DAY)
    assert "customer.subscription.trial_will_end" in events_of(sub["id"])
    assert subscription(shop, sub["id"])["status"] == "trialing"

    advance(shop, clock, JAN_31 + 15 * DAY)
    after = subscription(shop, sub["id"])
    assert after["status"] == "active"
    assert after["currentPeriodStart"] == after["trialEnd"] == after["billingCycleAnchor"]
    paid = invoices_of(shop, sub["id"])[-1]
    assert (paid["status"], paid["amountPaidCents"], paid["billingReason"]) == (
        "paid",
        2_000,
        "subscription_cycle",
    )


def test_a_failing_card_is_dunned_then_recovers_with_a_new_card(shop: Merchant) -> None:
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

    advance(shop, clock, JAN_31 + 29 * DAY)  # the Feb 28 renewal fails
    after = subscription(shop, sub["id"])
    assert after["status"] == "past_due"
    renewal = invoices_of(shop, sub["id"])[-1]
    assert renewal["status"] == "open" and renewal["attemptCount"] == 1
    assert renewal["nextPaymentAttempt"].startswith("2025-03-03T09:00")  # 3 days later
    assert renewal["lastPaymentError"]["code"]
    assert emails_to(shop.merchant_id, "billing_payment_failed") == 1
    assert_the_email_opens_the_billing_portal(shop, customer)

    advance(shop, clock, JAN_31 + 31 * DAY)  # the retry on day 3 (March 3) fails too
    renewal = invoices_of(shop, sub["id"])[-1]
    assert renewal["attemptCount"] == 2
    assert renewal["nextPaymentAttempt"].startswith("2025-03-05T09:00")

    # The customer follows the e-mail's link, puts in a working card and pays there.
    from backend.services.billing import customer_pages

    secret = portal_secret_from_email(shop)
    added = customer_pages.add_card(secret, "4242424242424242", ip_address=None)
    assert added.ok, added
    paying = customer_pages.pay_from_portal(secret, renewal["id"], ip_address=None)
    assert paying.ok, paying
    paid = ok(shop.get(f"/api/invoices/{renewal['id']}"))["invoice"]
    assert paid["status"] == "paid" and paid["nextPaymentAttempt"] is None
    assert subscription(shop, sub["id"])["status"] == "active"
    assert subscription(shop, sub["id"])["defaultPaymentMethod"] != failing  # the new card
    assert "invoice.payment_failed" in events_of(renewal["id"])
    assert events_of(renewal["id"])[-1] == "invoice.paid"

    advance(shop, clock, JAN_31 + 40 * DAY)  # no retry is left to run
    assert invoices_of(shop, sub["id"])[-1]["attemptCount"] == 3


def portal_secret_from_email(shop: Merchant) -> str:
    import re

    with session_scope(readonly=True) as db:
        body = db.exec(
            select(OutboundEmail.text_body).where(
                OutboundEmail.merchant_id == shop.merchant_id,
                OutboundEmail.template == "billing_payment_failed",
            )
        ).first()
    found = re.search(r"/billing/([\w-]+)", body or "")
    assert found is not None, body
    return found.group(1)


def assert_the_email_opens_the_billing_portal(shop: Merchant, customer: str) -> None:
    """The failed-payment e-mail says when the retry is and links to the customer's billing
    portal, which opens."""
    from backend.services.billing import portal_sessions

    with session_scope(readonly=True) as db:
        body = db.exec(
            select(OutboundEmail.text_body).where(
                OutboundEmail.template == "billing_payment_failed",
                OutboundEmail.merchant_id == shop.merchant_id,
            )
        ).one()
        assert "We will try again on March 3, 2025." in body
        opened = portal_sessions.open_session(db, portal_secret_from_email(shop))
        assert opened.customer.id == customer


@pytest.mark.parametrize("dunning_end", ["cancel", "unpaid"])
def test_when_the_retries_run_out(shop: Merchant, dunning_end: str) -> None:
    from backend.services.billing import settings
    from backend.services.context import Scope

    with session_scope() as db:
        settings.update_billing_settings(
            db, Scope(shop.merchant_id, False), dunning_end=dunning_end
        )
    clock, customer = clock_customer(shop, token="pm_card_visa")
    sub = subscribe(shop, customer, plan(shop))
    failing = ok(
        shop.post(
            f"/api/customers/{customer}/payment_methods",
            {"type": "card", "token": "pm_card_chargeCustomerFail"},
        ),
        201,
    )["paymentMethod"]["id"]
    ok(shop.post(f"/api/subscriptions/{sub['id']}", {"defaultPaymentMethod": failing}))

    advance(shop, clock, JAN_31 + 38 * DAY)  # Feb 28 + 7 days: every retry done
    after = subscription(shop, sub["id"])
    renewal = invoices_of(shop, sub["id"])[1]
    assert renewal["attemptCount"] == 4  # the renewal and retries on days 3, 5 and 7
    if dunning_end == "cancel":
        assert after["status"] == "canceled"
        assert after["cancellationReason"] == "payment_failed"
        assert renewal["status"] == "uncollectible"
        assert "customer.subscription.deleted" in events_of(sub["id"])
    else:
        assert after["status"] == "unpaid"
        assert renewal["status"] == "open" and renewal["nextPaymentAttempt"] is None
        advance(shop, clock, JAN_31 + 60 * DAY)  # the March renewal is invoiced, not charged
        march = invoices_of(shop, sub["id"])[-1]
        assert (march["status"], march["attemptCount"]) == ("open", 0)


def test_cancel_at_period_end_bills_nothing_more(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    body = {"atPeriodEnd": True}
    canceling = ok(shop.post(f"/api/subscriptions/{sub['id']}/cancel", body))["subscription"]
    assert canceling["status"] == "active" and canceling["cancelAtPeriodEnd"] is True

    advance(shop, clock, JAN_31 + 90 * DAY)
    after = subscription(shop, sub["id"])
    assert after["status"] == "canceled"
    assert after["endedAt"].startswith("2025-02-28T09:00")
    assert len(invoices_of(shop, sub["id"])) == 1
    assert events_of(sub["id"])[-1] == "customer.subscription.deleted"


def test_a_quantity_change_prorates_at_once(shop: Merchant) -> None:
    clock, customer = clock_customer(shop, at=int(datetime(2025, 4, 1, tzinfo=UTC).timestamp()))
    price = plan(shop, 3_000)
    sub = subscribe(shop, customer, price)
    advance(shop, clock, int(datetime(2025, 4, 11, tzinfo=UTC).timestamp()))  # 10 of 30 days

    body = {"items": [{"priceId": price, "quantity": 3}], "prorationBehavior": "always_invoice"}
    ok(shop.post(f"/api/subscriptions/{sub['id']}", body))

    update = invoices_of(shop, sub["id"])[-1]
    assert update["billingReason"] == "subscription_update"
    amounts = sorted(line["amountCents"] for line in update["lines"])
    assert amounts == [-2_000, 6_000]  # unused 20 days of 1, remaining 20 days of 3
    assert all(line["proration"] for line in update["lines"])
    assert (update["status"], update["amountPaidCents"]) == ("paid", 4_000)

    advance(shop, clock, int(datetime(2025, 5, 2, tzinfo=UTC).timestamp()))
    renewal = invoices_of(shop, sub["id"])[-1]
    assert renewal["amountPaidCents"] == 9_000  # three units from May 1


def test_a_downgrade_on_the_next_invoice_carries_the_credit(shop: Merchant) -> None:
    clock, customer = clock_customer(shop, at=int(datetime(2025, 4, 1, tzinfo=UTC).timestamp()))
    price = plan(shop, 3_000)
    sub = subscribe(shop, customer, price)
    ok(
        shop.post(
            f"/api/subscriptions/{sub['id']}",
            {"items": [{"priceId": price, "quantity": 3}], "prorationBehavior": "none"},
        )
    )
    advance(shop, clock, int(datetime(2025, 4, 16, tzinfo=UTC).timestamp()))  # half way
    ok(shop.post(f"/api/subscriptions/{sub['id']}", {"items": [{"priceId": price, "quantity": 1}]}))
    advance(shop, clock, int(datetime(2025, 5, 2, tzinfo=UTC).timestamp()))
    renewal = invoices_of(shop, sub["id"])[-1]
    # 3 x $30 credited for 15 of 30 days ($45), 1 x $30 charged for them ($15), then May's $30.
    assert sorted(line["amountCents"] for line in renewal["lines"]) == [-4_500, 1_500, 3_000]
    assert renewal["totalCents"] == 0 and renewal["status"] == "paid"


def test_pausing_voids_renewals_until_resumed(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    body = {"pauseCollection": {"behavior": "void"}}
    assert ok(shop.post(f"/api/subscriptions/{sub['id']}", body))["subscription"]["status"] == (
        "paused"
    )
    advance(shop, clock, JAN_31 + 30 * DAY)
    assert invoices_of(shop, sub["id"])[-1]["status"] == "void"
    resumed = ok(shop.post(f"/api/subscriptions/{sub['id']}", {"pauseCollection": None}))
    assert resumed["subscription"]["status"] == "active"
    advance(shop, clock, JAN_31 + 60 * DAY)
    assert invoices_of(shop, sub["id"])[-1]["status"] == "paid"


def test_authentication_required_emails_a_link_and_waits(shop: Merchant) -> None:
    clock, customer = clock_customer(shop, token="pm_card_authenticationRequired")
    sub = subscribe(shop, customer, plan(shop))
    assert sub["status"] == "incomplete"
    first = invoices_of(shop, sub["id"])[0]
    assert first["status"] == "open" and first["hostedUrl"]
    assert "invoice.payment_action_required" in events_of(first["id"])
    assert emails_to(shop.merchant_id, "billing_action_required") == 1

    advance(shop, clock, JAN_31 + DAY)  # 23 hours without the customer: it expires
    assert subscription(shop, sub["id"])["status"] == "incomplete_expired"
    assert invoices_of(shop, sub["id"])[0]["status"] == "void"


def test_refusals_change_nothing(client: TestClient, shop: Merchant) -> None:
    _clock, customer = clock_customer(shop)
    price = plan(shop)
    other = new_merchant(client, "Other")
    cases = [
        ({"customerId": customer, "items": []}, 400),
        ({"customerId": customer, "items": [{"priceId": price, "quantity": 0}]}, 400),
        ({"customerId": customer, "items": [{"priceId": "price_nope"}]}, 404),
        ({"customerId": "cus_nope", "items": [{"priceId": price}]}, 404),
        ({"customerId": customer, "items": [{"priceId": price}, {"priceId": price}]}, 422),
        ({"customerId": customer, "items": [{"priceId": price}], "trialDays": 0}, 400),
        ({"customerId": customer, "items": [{"priceId": price}], "extra": 1}, 400),
    ]
    for body, status in cases:
        response = shop.post("/api/subscriptions", body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["success"] is False
    assert (
        other.post(
            "/api/subscriptions", {"customerId": customer, "items": [{"priceId": price}]}
        ).status_code
        == 404
    )
    with session_scope(readonly=True) as db:
        count = db.exec(select(func.count()).where(Invoice.merchant_id == shop.merchant_id)).one()
    assert count == 0


def test_two_workers_renewing_at_once_bill_each_period_once(shop: Merchant) -> None:
    """The job on two workers at the same moment: every due subscription is renewed once, its
    period invoiced once and charged once (SKIP LOCKED and the invoice's period key)."""
    import threading
    from datetime import timedelta

    from backend.models.types import utcnow
    from backend.services.billing import engine

    price = plan(shop)
    subs = []
    for n in range(6):
        body = {"email": f"sub{n}@example.com"}
        customer = ok(shop.post("/api/customers", body), 201)["customer"]["id"]
        card = {"type": "card", "token": "pm_card_visa"}
        ok(shop.post(f"/api/customers/{customer}/payment_methods", card), 201)
        subs.append(subscribe(shop, customer, price)["id"])

    later = utcnow() + timedelta(days=35)  # one monthly renewal due for each
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            engine.run_due(later)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    engine.run_due(later)  # whatever a locked-out worker left is done now, and only once

    for sub_id in subs:
        found = invoices_of(shop, sub_id)
        assert [i["billingReason"] for i in found] == ["subscription_create", "subscription_cycle"]
        assert all(i["status"] == "paid" for i in found)
    with session_scope(readonly=True) as db:
        paid = db.exec(
            select(func.count()).where(
                Payment.merchant_id == shop.merchant_id, Payment.status == "succeeded"
            )
        ).one()
    assert paid == 2 * len(subs)


def test_the_customer_authenticates_on_the_invoice_page(shop: Merchant) -> None:
    """A renewal that needs 3-D Secure waits; the customer passes the challenge (what the
    hosted invoice page does) and the invoice is paid, the subscription active again."""
    from backend.services.billing import invoices
    from backend.services.context import Scope

    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    strict = ok(
        shop.post(
            f"/api/customers/{customer}/payment_methods",
            {"type": "card", "token": "pm_card_authenticationRequired"},
        ),
        201,
    )["paymentMethod"]["id"]
    ok(shop.post(f"/api/subscriptions/{sub['id']}", {"defaultPaymentMethod": strict}))
    advance(shop, clock, JAN_31 + 29 * DAY)
    waiting = invoices_of(shop, sub["id"])[-1]
    assert waiting["status"] == "open"
    assert subscription(shop, sub["id"])["status"] == "past_due"
    retry = shop.post(f"/api/invoices/{waiting['id']}/pay")
    assert retry.status_code == 409  # the customer has the next step, not the merchant

    with session_scope() as db:
        finished = invoices.finish_authentication(
            db, Scope(shop.merchant_id, False), waiting["id"], approved=True
        )
        assert finished is not None and finished.outcome == "captured"
    paid = ok(shop.get(f"/api/invoices/{waiting['id']}"))["invoice"]
    assert (paid["status"], paid["amountPaidCents"]) == ("paid", 1_500)
    assert subscription(shop, sub["id"])["status"] == "active"


def test_the_merchant_sets_the_dunning_schedule(shop: Merchant) -> None:
    found = ok(shop.get("/api/billing/settings"))["settings"]
    assert (found["retryDays"], found["dunningEnd"]) == ([3, 5, 7], "cancel")
    body = {"retryDays": [2, 4], "dunningEnd": "unpaid", "portalAllowsCancel": False}
    changed = ok(shop.post("/api/billing/settings", body))["settings"]
    assert (changed["retryDays"], changed["dunningEnd"], changed["portalAllowsCancel"]) == (
        [2, 4],
        "unpaid",
        False,
    )
    for bad in ({"retryDays": [5, 3]}, {"retryDays": [0]}, {"retryDays": [61]}):
        assert shop.post("/api/billing/settings", bad).status_code == 422
    assert shop.post("/api/billing/settings", {"dunningEnd": "pause"}).status_code == 400

    clock, customer = clock_customer(shop, token="pm_card_chargeCustomerFail")
    sub = subscribe(shop, customer, plan(shop), trialDays=1)
    advance(shop, clock, JAN_31 + 2 * DAY)  # the trial ends, the first charge fails
    first = invoices_of(shop, sub["id"])[-1]
    assert first["nextPaymentAttempt"].startswith("2025-02-03T09:00")  # 2 days after
    advance(shop, clock, JAN_31 + 6 * DAY)  # day 2 and day 4 retries fail: unpaid
    assert subscription(shop, sub["id"])["status"] == "unpaid"
    assert invoices_of(shop, sub["id"])[-1]["attemptCount"] == 3


def test_deleting_the_clock_or_the_customer_ends_subscriptions(shop: Merchant) -> None:
    clock, customer = clock_customer(shop)
    sub = subscribe(shop, customer, plan(shop))
    deleted = shop.client.delete(f"/api/test_clocks/{clock}", headers=shop.headers())
    assert deleted.status_code == 200, deleted.text
    ended = subscription(shop, sub["id"])
    assert (ended["status"], ended["cancellationReason"]) == ("canceled", "customer_deleted")
    assert shop.get(f"/api/customers/{customer}").status_code == 404
