"""Bank debits (ACH) with the sandbox and the Plaid twin, on SQLite and PostgreSQL: the
checkout's "Pay by bank" (mandate stored as shown, with address and browser), processing for
days, the settle job booking success or failure from Stripe's test accounts, a return after
success reversing the payment through the booking path (ledger, fees, event, e-mail), and the
API's bank payments and their refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import (
    BalanceTransaction,
    BankDebit,
    CheckoutSession,
    DomainEvent,
    LedgerEntry,
    LedgerJournal,
    Order,
    OutboundEmail,
    Payment,
)
from backend.services.checkout import paying
from backend.services.payments import bank_debits, bank_linking
from backend.services.payments.fees import BANK_RETURN_FEE
from backend.services.reporting import payment_detail
from tests.integration.api_client import Merchant, new_merchant

URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}
EMAIL = "buyer@example.com"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) PayPortalTest/1.0"
IP = "203.0.113.9"
SUCCEEDS, CLOSED, RETURNED_LATER = "000123456789", "000111111113", "000999999996"
MANDATE = {
    "text": "I authorise Shop to debit my account once.",
    "ipAddress": IP,
    "userAgent": AGENT,
}


@pytest.fixture
def client(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from backend.api import create_app

    monkeypatch.delenv("PLAID_CLIENT_ID", raising=False)
    monkeypatch.delenv("PLAID_SECRET", raising=False)
    settle(monkeypatch, 3600)
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def settle(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    from backend.core.config import get_settings

    monkeypatch.setenv("SANDBOX_BANK_SETTLE_SECONDS", str(seconds))
    get_settings.cache_clear()


def new_session(shop: Merchant, currency: str = "USD", amount: int = 10_000) -> str:
    body: dict[str, Any] = {"amountCents": amount, "currency": currency, **URLS}
    body["paymentMethods"] = ["card", "bank"]
    response = shop.post("/api/checkout/sessions", body)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def pay_by_bank(sid: str, account: str = SUCCEEDS, locale: str = "en_US") -> paying.PayResult:
    public_token, account_id = bank_linking.twin_link("ins_109508", account)
    choice = paying.BankChoice(public_token, account_id, AGENT)
    with session_scope() as db:
        return paying.pay(
            db,
            sid,
            token="",
            customer_email=EMAIL,
            ip_address=IP,
            locale=locale,
            method="bank",
            bank=choice,
        )


def mine(table: Any, shop: Merchant) -> Any:
    """The rows of one merchant: the PostgreSQL database is shared by the session's tests."""
    return select(table).where(table.merchant_id == shop.merchant_id)


def payment(payment_id: str) -> Payment:
    with session_scope(readonly=True) as db:
        found = db.get(Payment, payment_id)
        assert found is not None
        db.expunge(found)
        return found


def debit(payment_id: str) -> BankDebit:
    with session_scope(readonly=True) as db:
        found = db.get(BankDebit, payment_id)
        assert found is not None
        db.expunge(found)
        return found


def age(payment_id: str, seconds: int) -> None:
    """Let the sandbox's debit be `seconds` older: its id says when it was made."""
    with session_scope() as db:
        row = db.get(Payment, payment_id)
        assert row is not None and row.gateway_payment_id
        made = int(re.split(r"_", row.gateway_payment_id)[3])
        row.gateway_payment_id = row.gateway_payment_id.replace(f"_{made}_", f"_{made - seconds}_")
        db.add(row)


def merchant_sums(merchant_id: str) -> dict[str, int]:
    with session_scope(readonly=True) as db:
        rows = db.exec(
            select(LedgerEntry.account, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.merchant_id == merchant_id)
            .group_by(LedgerEntry.account)
        ).all()
    return {account: int(total) for account, total in rows}


def journals_balance(merchant_id: str) -> bool:
    with session_scope(readonly=True) as db:
        totals = db.exec(
            select(func.sum(LedgerEntry.amount))
            .where(LedgerEntry.merchant_id == merchant_id)
            .group_by(LedgerEntry.journal_id)
        ).all()
    return all(total == 0 for total in totals)


# -- paying by bank on the hosted checkout ---------------------------------------------------


def test_pay_by_bank_stays_processing_then_succeeds(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_session(shop)
    result = pay_by_bank(sid, locale="de_DE")
    assert result.status == "complete"
    assert result.payment is not None
    paid = payment(result.payment.id)
    assert (paid.status, paid.payment_method_type, paid.gateway) == (
        "processing",
        "bank",
        "sandbox",
    )
    assert paid.platform_fee > 0 and paid.amount_captured == 0
    row = debit(paid.id)
    assert (row.bank_name, row.last4, row.account_type) == (
        "First Platypus Bank",
        "6789",
        "checking",
    )
    assert row.mandate_ip_address == IP and row.mandate_user_agent == AGENT
    assert row.mandate_language == "de"
    with session_scope(readonly=True) as db:
        session = db.get(CheckoutSession, sid)
        assert session is not None
        assert row.mandate_text == paying.mandate_text(db, session, "de_DE")
    assert "ermächtigen Sie Shop" in row.mandate_text and "100,00" in row.mandate_text
    assert merchant_sums(shop.merchant_id) == {}  # nothing booked while processing
    with session_scope(readonly=True) as db:
        (receipt,) = db.exec(
            mine(OutboundEmail, shop).where(OutboundEmail.template == "checkout_receipt")
        ).all()
    assert "wird bearbeitet" in receipt.text_body  # processing, in the customer's language
    assert "Bankkonto ···6789 (First Platypus Bank)" in receipt.text_body

    bank_debits.poll_due()  # an hour to go
    assert payment(paid.id).status == "processing"

    settle(monkeypatch, 0)
    bank_debits.poll_due()
    settled = payment(paid.id)
    assert settled.status == "succeeded" and settled.amount_captured == 10_000
    booked = merchant_sums(shop.merchant_id)
    bank_debits.poll_due()  # a repeat books nothing
    assert merchant_sums(shop.merchant_id) == booked
    with session_scope(readonly=True) as db:
        order = db.get(Order, settled.order_id)
        assert order is not None and order.status == "paid"
        types = {e.type for e in db.exec(mine(DomainEvent, shop)).all() if e.object_id == paid.id}
    assert {"payment.processing", "payment.succeeded"} <= types
    sums = merchant_sums(shop.merchant_id)
    assert sums["merchant_pending"] == settled.net_amount
    assert journals_balance(shop.merchant_id)


def test_a_failing_test_account_fails_with_its_return_code_in_words(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pay_by_bank(new_session(shop), CLOSED)
    assert result.payment is not None and result.payment.status == "processing"
    settle(monkeypatch, 0)
    bank_debits.poll_due()
    failed = payment(result.payment.id)
    assert (failed.status, failed.failure_code) == ("failed", "R02")
    assert failed.failure_message == "Account closed (R02)"
    assert failed.platform_fee == failed.gateway_fee == 0
    assert merchant_sums(shop.merchant_id) == {}
    assert debit(failed.id).poll_until is None


def test_a_return_after_success_reverses_the_payment(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pay_by_bank(new_session(shop), RETURNED_LATER)
    assert result.payment is not None
    pay_id = result.payment.id
    age(pay_id, 3600)  # settled: past one delay, within two
    bank_debits.poll_due()
    succeeded = payment(pay_id)
    assert succeeded.status == "succeeded"
    before = merchant_sums(shop.merchant_id)

    age(pay_id, 3600)  # past two delays: the bank returns it
    bank_debits.poll_due()
    returned = payment(pay_id)
    assert (returned.status, returned.failure_code) == ("failed", "R01")
    assert returned.failure_message == "Insufficient funds (R01)"
    after = merchant_sums(shop.merchant_id)
    held = ("merchant_pending", "merchant_available")
    effect = sum(after.get(a, 0) - before.get(a, 0) for a in held)
    assert effect == -10_000 + succeeded.platform_fee - BANK_RETURN_FEE
    assert after["platform_fee_revenue"] - before["platform_fee_revenue"] == -succeeded.platform_fee
    assert after["processor_fees"] - before["processor_fees"] == BANK_RETURN_FEE
    assert journals_balance(shop.merchant_id)
    row = debit(pay_id)
    assert (row.return_code, row.return_fee, row.poll_until) == ("R01", BANK_RETURN_FEE, None)
    with session_scope(readonly=True) as db:
        kinds = {
            t.type
            for t in db.exec(
                select(BalanceTransaction).where(BalanceTransaction.source_id == pay_id)
            ).all()
        }
        assert {"payment_failure_refund", "bank_return_fee", "platform_fee"} <= kinds
        order = db.get(Order, returned.order_id)
        assert order is not None and order.status == "open"  # unpaid again
        failed_events = [
            e
            for e in db.exec(
                mine(DomainEvent, shop).where(DomainEvent.type == "payment.failed")
            ).all()
            if e.object_id == pay_id
        ]
        assert len(failed_events) == 1
        assert failed_events[0].data["bankReturn"]["code"] == "R01"
        mails = db.exec(
            mine(OutboundEmail, shop).where(OutboundEmail.template == "bank_payment_returned")
        ).all()
        assert len(mails) == 1 and mails[0].to_email.startswith("owner-")
        assert "Insufficient funds (R01)" in mails[0].text_body
        journals = db.exec(
            select(LedgerJournal.key).where(LedgerJournal.merchant_id == shop.merchant_id)
        ).all()
    assert f"bank_return:{pay_id}" in journals
    with session_scope(readonly=True) as db:
        row = db.get(Payment, pay_id)
        assert row is not None
        timeline = payment_detail.payment_timeline(db, row)
    details = [entry.detail for entry in timeline]
    assert "Failed · Insufficient funds (R01)" in details  # the return in words, not a code
    assert bank_debits.return_words(debit(pay_id)) == (
        "Returned by the customer's bank: Insufficient funds (R01)"
    )
    bank_debits.poll_due()  # asked again: booked once
    assert merchant_sums(shop.merchant_id) == after


def test_the_twin_picker_says_each_accounts_outcome_in_every_language() -> None:
    from backend.services.checkout import customer_actions
    from backend.services.checkout.i18n import LANGUAGES, t

    banks, accounts = customer_actions.bank_twin_choices()
    assert ("ins_109508", "First Platypus Bank") in banks
    assert [number for number, _, _ in accounts] == [
        "000123456789",
        "000222222227",
        "000111111113",
        "000111111116",
        "000333333335",
        "000999999996",
    ]
    for language in LANGUAGES:
        words = {t(f"bank_outcome_{code}", language) for _, _, code in accounts}
        assert len(words) == len(accounts)  # each outcome told apart, none a code word


def test_bank_is_offered_for_us_dollars_only(shop: Merchant) -> None:
    response = shop.post(
        "/api/checkout/sessions",
        {"amountCents": 500, "currency": "EUR", "paymentMethods": ["card", "bank"], **URLS},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("payment_method_unavailable", "paymentMethods")
    assert "US dollars" in error["message"]


def test_a_session_without_bank_refuses_a_bank_payment(shop: Merchant) -> None:
    body = {"amountCents": 500, "currency": "USD", **URLS}
    sid = shop.post("/api/checkout/sessions", body).json()["session"]["id"]
    with pytest.raises(ValidationFailed):
        pay_by_bank(sid)
    with session_scope(readonly=True) as db:
        assert db.exec(mine(BankDebit, shop)).all() == []


def test_a_forged_or_mismatched_bank_link_is_refused(shop: Merchant) -> None:
    sid = new_session(shop)
    public_token, _ = bank_linking.twin_link("ins_109508", SUCCEEDS)
    forged = [
        (public_token, "ins_109509-ach-000123456789"),  # an account at another bank
        (public_token, "ins_109508-ach-000000000000"),  # not a test account
        ("public-sandbox-ins_109508-" + "0" * 31, "ins_109508-ach-000123456789"),
        (public_token, "ins_109508-ach-000123456789\x00"),
    ]
    for token, account in forged:
        with session_scope() as db, pytest.raises(ValidationFailed):
            paying.pay(
                db,
                sid,
                token="",
                customer_email=EMAIL,
                ip_address=IP,
                method="bank",
                bank=paying.BankChoice(token, account, AGENT),
            )
    with session_scope(readonly=True) as db:
        assert db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all() == []


# -- the REST API ------------------------------------------------------------------------------


def bank_charge(shop: Merchant, **changes: Any) -> Any:
    body: dict[str, Any] = {
        "amountCents": 2_500,
        "currency": "USD",
        "paymentMethod": {"type": "bank", "token": SUCCEEDS},
        "mandate": MANDATE,
        **changes,
    }
    return shop.post("/api/payments/charge", body)


def test_the_api_takes_a_bank_payment_with_its_mandate(shop: Merchant) -> None:
    response = bank_charge(shop)
    assert response.status_code == 201, response.text
    body = response.json()["payment"]
    assert body["status"] == "processing" and body["paymentMethod"]["type"] == "bank"
    account = body["paymentMethod"]["bankAccount"]
    assert (account["bankName"], account["last4"], account["returnCode"]) == (
        "STRIPE TEST BANK",
        "6789",
        None,
    )
    assert account["mandate"]["ipAddress"] == IP and account["mandate"]["text"] == MANDATE["text"]
    assert shop.get(f"/api/payments/{body['id']}").json()["payment"] == body
    row = debit(body["id"])
    assert (row.bank_name, row.last4) == ("STRIPE TEST BANK", "6789")
    assert row.mandate_text == MANDATE["text"] and row.mandate_ip_address == IP
    declined = bank_charge(shop, paymentMethod={"type": "bank", "token": "btok_us_verified"})
    assert declined.status_code == 201


@pytest.mark.parametrize(
    ("changes", "status", "param"),
    [
        ({"mandate": None}, 422, "mandate"),
        ({"currency": "EUR"}, 422, "currency"),
        ({"paymentMethod": {"type": "bank", "token": "000000001234"}}, 422, "paymentMethod.token"),
        ({"mandate": {**MANDATE, "ipAddress": "not an address"}}, 422, "mandate.ipAddress"),
        ({"mandate": {**MANDATE, "text": "ok\u0000"}}, 400, "mandate.text"),
        ({"mandate": {**MANDATE, "userAgent": 5}}, 400, "mandate.userAgent"),
        ({"mandate": {**MANDATE, "extra": "x"}}, 400, "mandate.extra"),
        ({"paymentMethod": {"type": "card", "token": "pm_card_visa"}}, 422, "mandate"),
    ],
)
def test_bad_bank_payments_are_refused_and_write_nothing(
    shop: Merchant, changes: dict[str, Any], status: int, param: str
) -> None:
    response = bank_charge(shop, **changes)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    with session_scope(readonly=True) as db:
        assert db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all() == []
        assert db.exec(mine(BankDebit, shop)).all() == []


def test_a_bank_payment_is_never_only_authorized(shop: Merchant) -> None:
    order = shop.order(2_500)
    response = shop.post(
        "/api/payments/authorize",
        {
            "orderId": order,
            "paymentMethod": {"type": "bank", "token": SUCCEEDS},
            "mandate": MANDATE,
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "capture_unsupported"


def test_a_replayed_bank_charge_debits_once(shop: Merchant) -> None:
    body = {
        "amountCents": 2_500,
        "currency": "USD",
        "paymentMethod": {"type": "bank", "token": SUCCEEDS},
        "mandate": MANDATE,
    }
    first = shop.post("/api/payments/charge", body, key="bank-1")
    again = shop.post("/api/payments/charge", body, key="bank-1")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    with session_scope(readonly=True) as db:
        assert len(db.exec(mine(BankDebit, shop)).all()) == 1


def test_another_merchants_order_is_not_found(client: TestClient, shop: Merchant) -> None:
    other = new_merchant(client, "Other")
    order = other.order(2_500)
    response = shop.post(
        "/api/payments/charge",
        {
            "orderId": order,
            "paymentMethod": {"type": "bank", "token": SUCCEEDS},
            "mandate": MANDATE,
        },
    )
    assert response.status_code == 404
