"""The Balance page's service (backend/services/payouts/balance_page.py) against a real migrated
database and the payout rail's sandbox twin: its figures are the ledger's, only the owner acts,
another merchant's payout is not found, typed amounts are parsed or refused in words, and a
simulated bank return is booked (test mode only)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.models.enums import PayoutStatus, Role
from backend.models.ledger import BalanceTransaction, Payout
from backend.services.identity import sessions, step_up
from backend.services.identity.viewers import Viewer, viewer_of
from backend.services.payouts import balance_page
from backend.services.payouts.balance_page import TransactionFilters
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import (
    add_bank_account,
    assert_ledger_consistent,
    balance_row,
    fund,
)

PASSWORD = "a long passphrase 1"


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


def owner_viewer(merchant_id: str) -> Viewer:
    """The owner's real signed-in session (test mode), as the portal sees it."""
    from backend.models import Membership, User

    with session_scope() as db:
        email = db.exec(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.merchant_id == merchant_id)
        ).one()
        token, _ = sessions.sign_in(db, email=email, password=PASSWORD)
        ctx = sessions.resolve(db, token)
    assert ctx is not None
    viewer = viewer_of(ctx)
    assert viewer is not None
    return viewer


def as_role(viewer: Viewer, role: Role) -> Viewer:
    return replace(viewer, ctx=replace(viewer.ctx, role=role))


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    merchant = new_merchant(client)
    add_bank_account(merchant.merchant_id)
    fund(merchant)
    return merchant


def test_the_figures_are_the_ledgers(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    page = balance_page.balance_page(viewer)
    row = balance_row(shop.merchant_id)
    (usd,) = [c for c in page.currencies if c.currency == "USD"]
    assert usd.available == format_money(row.available, "USD") != "$0.00"
    assert usd.pending == format_money(row.pending, "USD")
    assert usd.in_transit == "$0.00"
    assert usd.schedule == "Daily" and usd.minimum_words == "No minimum"
    # Daily: the next payout is today or tomorrow, of at least what is available now.
    assert f"about {format_money(row.available, 'USD')}" in usd.next_payout
    assert page.bank == "First Platypus Bank · Checking ••0000"
    assert page.can_pay_out and page.can_export and page.testmode

    rows, cursor = balance_page.transactions_page(viewer, TransactionFilters(), cursor=None)
    with session_scope(readonly=True) as db:
        count = db.exec(
            select(func.count()).where(BalanceTransaction.merchant_id == shop.merchant_id)
        ).one()
    assert len(rows) == count and cursor is None
    assert {r["type"] for r in rows} >= {"Charge", "Platform fee"}
    assert all(r["href"].startswith("/payments/pay_") for r in rows if r["type"] == "Charge")
    charges, _ = balance_page.transactions_page(
        viewer, TransactionFilters.parse("charge", "usd"), cursor=None
    )
    assert len(charges) == 3 and {r["net"] for r in charges} == {"$100.00"}
    with pytest.raises(ValidationFailed):
        TransactionFilters.parse("not_a_type", "")


def test_paying_out_everything_and_the_transactions_add_up(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    available = balance_row(shop.merchant_id).available
    review = balance_page.review_pay_out(viewer, "usd", "")
    assert review.amount is None
    assert review.summary.startswith(f"Pay out {format_money(available, 'USD')} (everything")
    payout = balance_page.pay_out(viewer, "USD", None, ip_address="127.0.0.1")
    assert payout.status == PayoutStatus.IN_TRANSIT and payout.amount == available
    assert balance_row(shop.merchant_id).available == 0

    detail = balance_page.payout_detail(viewer, payout.id)
    assert detail.adds_up and detail.note == ""
    assert detail.total == detail.payout["amount"] == format_money(available, "USD")
    assert detail.payout["status_label"] == "In transit"
    assert detail.can_simulate and not detail.can_cancel
    assert len(detail.transactions) >= 9  # each charge: the charge and its fees
    assert detail.lines[0] == {"label": "Charges", "count": "3", "net": "$300.00"}
    assert sum(_money(line["net"]) for line in detail.lines) == _money(detail.total)
    assert detail.count == f"{len(detail.transactions)} transactions"
    listed, _ = balance_page.transactions_page(
        viewer, TransactionFilters.parse("", "", payout.id), cursor=None
    )
    assert {r["id"] for r in listed} >= {r["id"] for r in detail.transactions}
    assert_ledger_consistent(shop.merchant_id)

    (row,) = balance_page.payouts_page(viewer, cursor=None)[0]
    assert (row["id"], row["status_label"], row["kind"]) == (payout.id, "In transit", "Manual")


def test_a_typed_amount_is_parsed_in_the_locale_or_refused_in_words(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    review = balance_page.review_pay_out(viewer, "USD", "$12.50")
    assert review.amount == 1250 and "part of your balance" in review.summary
    for typed, words in (
        ("twelve", "is not an amount"),
        ("12.345", "2 decimal places"),
        ("-5", "above zero"),
        ("1000000", "more than the"),
    ):
        with pytest.raises(ValidationFailed, match=words):
            balance_page.review_pay_out(viewer, "USD", typed)
    german = replace(viewer, locale="de_DE")
    assert balance_page.review_pay_out(german, "USD", "12,50").amount == 1250


def test_a_partial_payout_is_not_matched_and_can_be_read(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    payout = balance_page.pay_out(viewer, "USD", 1_250, ip_address=None)
    detail = balance_page.payout_detail(viewer, payout.id)
    assert detail.transactions == [] and detail.total == ""
    assert detail.note == "A payout of part of your balance is not matched to transactions"


def test_support_and_analysts_see_but_only_the_owner_acts(shop: Merchant) -> None:
    owner = owner_viewer(shop.merchant_id)
    payout = balance_page.pay_out(owner, "USD", 1_000, ip_address=None)
    for role in (Role.SUPPORT, Role.ANALYST, Role.ADMIN, Role.DEVELOPER):
        member = as_role(owner, role)
        page = balance_page.balance_page(member)
        assert page.currencies and not page.can_pay_out
        assert page.can_export == (role in (Role.ANALYST, Role.ADMIN))
        detail = balance_page.payout_detail(member, payout.id)
        assert not detail.can_cancel and not detail.can_simulate
        with pytest.raises(PermissionDenied):
            balance_page.review_pay_out(member, "USD", "")
        with pytest.raises(PermissionDenied):
            balance_page.pay_out(member, "USD", None, ip_address=None)
        with pytest.raises(PermissionDenied):
            balance_page.set_schedule(
                member,
                "USD",
                interval="manual",
                weekday="0",
                day_of_month="1",
                minimum="",
                ip_address=None,
            )
        with pytest.raises(PermissionDenied):
            balance_page.simulate_return(member, payout.id)


def test_another_merchants_payout_is_not_found(client: TestClient, shop: Merchant) -> None:
    payout = balance_page.pay_out(owner_viewer(shop.merchant_id), "USD", None, ip_address=None)
    other = new_merchant(client, "Other")
    stranger = owner_viewer(other.merchant_id)
    with pytest.raises(NotFound):
        balance_page.payout_detail(stranger, payout.id)
    with pytest.raises(NotFound):
        balance_page.cancel(stranger, payout.id, ip_address=None)
    with pytest.raises(NotFound):
        balance_page.simulate_return(stranger, payout.id)
    live = owner_viewer(shop.merchant_id)
    live = replace(live, ctx=replace(live.ctx, livemode=True))
    with pytest.raises(NotFound):  # the test payout is not the live mode's either
        balance_page.payout_detail(live, payout.id)
    assert balance_page.payouts_page(stranger, cursor=None) == ([], None)


def test_a_simulated_return_is_booked_and_refused_in_live_mode(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    available = balance_row(shop.merchant_id).available
    payout = balance_page.pay_out(viewer, "USD", None, ip_address=None)
    live = replace(viewer, ctx=replace(viewer.ctx, livemode=True))
    with pytest.raises(PermissionDenied, match="test mode"):
        balance_page.simulate_return(live, payout.id)

    returned = balance_page.simulate_return(viewer, payout.id)
    assert returned.status == PayoutStatus.FAILED and returned.failure_code == "R01"
    detail = balance_page.payout_detail(viewer, payout.id)
    assert detail.payout["status_label"] == "Returned"
    assert detail.payout["failure"].startswith("R01: insufficient funds")
    assert detail.payout["ended_label"] == "Returned" and not detail.can_simulate
    assert balance_row(shop.merchant_id).available == available  # the money is back
    rows, _ = balance_page.transactions_page(
        viewer, TransactionFilters.parse("payout_failure", ""), cursor=None
    )
    assert [r["type"] for r in rows] == ["Payout returned"]
    assert_ledger_consistent(shop.merchant_id)
    with pytest.raises(Exception, match="on its way"):
        balance_page.simulate_return(viewer, payout.id)


def test_the_schedule_and_the_next_payout_in_words(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    balance_page.set_schedule(
        viewer,
        "USD",
        interval="weekly",
        weekday="4",
        day_of_month="1",
        minimum="50.00",
        ip_address=None,
    )
    (usd,) = [c for c in balance_page.balance_page(viewer).currencies if c.currency == "USD"]
    assert (usd.schedule, usd.minimum_words, usd.minimum) == (
        "Weekly on Friday",
        "At least $50.00",
        "50.00",
    )
    assert usd.next_payout.startswith("Fri, ")
    with pytest.raises(ValidationFailed, match="not an amount"):
        balance_page.set_schedule(
            viewer,
            "USD",
            interval="daily",
            weekday="0",
            day_of_month="1",
            minimum="fifty",
            ip_address=None,
        )
    balance_page.set_schedule(
        viewer, "USD", interval="manual", weekday="0", day_of_month="1", minimum="", ip_address=None
    )
    (usd,) = [c for c in balance_page.balance_page(viewer).currencies if c.currency == "USD"]
    assert usd.next_payout == "Manual payouts" and usd.schedule == "Manual"


def test_without_a_bank_account_the_page_says_so(client: TestClient) -> None:
    merchant = new_merchant(client)
    fund(merchant, payments=1)
    viewer = owner_viewer(merchant.merchant_id)
    page = balance_page.balance_page(viewer)
    (usd,) = page.currencies
    assert usd.needs_bank and usd.next_payout == "Add a bank account to be paid"
    assert page.bank == ""
    with pytest.raises(Exception, match="bank account"):
        balance_page.review_pay_out(viewer, "USD", "")


def test_paying_out_in_live_mode_asks_for_a_fresh_code(shop: Merchant) -> None:
    viewer = owner_viewer(shop.merchant_id)
    live = replace(viewer, ctx=replace(viewer.ctx, livemode=True))
    with pytest.raises(step_up.StepUpRequired):
        balance_page.pay_out(live, "USD", None, ip_address=None)
    with session_scope(readonly=True) as db:
        made = select(func.count()).where(Payout.merchant_id == shop.merchant_id)
        assert db.exec(made).one() == 0
