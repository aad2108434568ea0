"""Payouts through Plaid Transfer: the real plaid SDK against the local Plaid fake on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from backend.core.config import get_settings
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.integrations import bank_payouts
from backend.integrations.bank_payouts import PayoutRefused, RailUnavailable
from tests.fakes.plaid_api import FakePlaid

AUTHORIZE = "/transfer/authorization/create"
CREATE = "/transfer/create"


@pytest.fixture
def plaid_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlaid]:
    with FakePlaid() as fake:
        monkeypatch.setenv("PLAID_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("PLAID_SECRET", fake.secret)
        monkeypatch.setenv("PLAID_HOST", fake.url)
        monkeypatch.setenv("PLAID_ENV", "sandbox")
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def rail(plaid_api: FakePlaid) -> bank_payouts.PayoutRail:
    chosen = bank_payouts.payout_rail()
    assert isinstance(chosen, bank_payouts.PlaidPayoutRail) and chosen.name == "plaid"
    # Nothing leaves this machine: the SDK talks to the fake on loopback only.
    assert chosen._api.api_client.configuration.host == plaid_api.url
    assert plaid_api.url.startswith("http://127.0.0.1:")
    return chosen


def send(rail: bank_payouts.PayoutRail, account: tuple[str, str], **changes: object):  # type: ignore[no-untyped-def]
    access_token, account_id = account
    payout: dict[str, object] = {
        "access_token": access_token,
        "account_id": account_id,
        "amount": 1234,
        "currency": "USD",
        "idempotency_key": "po_1",
        "legal_name": "Platypus Goods LLC",
        "description": "PayPortal po_1",
    }
    return rail.send(**{**payout, **changes})  # type: ignore[arg-type]


def bodies(fake: FakePlaid, path: str) -> list[dict]:  # type: ignore[type-arg]
    return [body for p, body in fake.requests if p == path]


def test_a_payout_is_an_ach_credit_authorized_then_created(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    account = plaid_api.linked_account("checking")
    state = send(rail, account)
    assert (state.status, state.amount, state.currency) == ("pending", 1234, "USD")
    assert state.failure_code is None and state.failure_message is None

    [authorize] = bodies(plaid_api, AUTHORIZE)
    assert authorize["access_token"] == account[0] and authorize["account_id"] == account[1]
    assert (authorize["type"], authorize["network"], authorize["ach_class"]) == (
        "credit",
        "ach",
        "ppd",
    )
    assert authorize["amount"] == "12.34" and authorize["iso_currency_code"] == "USD"
    assert authorize["user"] == {"legal_name": "Platypus Goods LLC"}
    assert authorize["idempotency_key"] == "po_1"
    [create] = bodies(plaid_api, CREATE)
    assert create["authorization_id"] == state.authorization_id
    assert (create["description"], create["idempotency_key"]) == ("PayPortal po_1", "po_1")

    assert rail.get(state.transfer_id) == state
    with pytest.raises(NotFound):
        rail.get("00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize(("cents", "wire"), [(1, "0.01"), (100, "1.00"), (100000000, "1000000.00")])
def test_amounts_reach_plaid_as_exact_decimal_strings(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail, cents: int, wire: str
):
    state = send(rail, plaid_api.linked_account(), amount=cents, idempotency_key=f"po_{cents}")
    assert bodies(plaid_api, AUTHORIZE)[-1]["amount"] == wire
    assert plaid_api.transfers[state.transfer_id]["amount"] == wire
    assert state.amount == cents and rail.get(state.transfer_id).amount == cents


def test_the_same_idempotency_key_pays_once_even_after_a_failure_midway(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    account = plaid_api.linked_account()
    first = send(rail, account)
    assert send(rail, account) == first
    assert len(plaid_api.transfers) == 1 and len(plaid_api.authorizations) == 1

    # Plaid fails after approving: the retry with the same key finds that authorization and
    # makes the one transfer.
    plaid_api.fail_next(1, 500, path=CREATE)
    with pytest.raises(RailUnavailable) as failed:
        send(rail, account, idempotency_key="po_2")
    assert failed.value.status == 503
    assert len(plaid_api.authorizations) == 2 and len(plaid_api.transfers) == 1
    retried = send(rail, account, idempotency_key="po_2")
    assert len(plaid_api.authorizations) == 2 and len(plaid_api.transfers) == 2
    assert retried.transfer_id != first.transfer_id


def test_a_declined_authorization_is_refused_in_words(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    account = plaid_api.linked_account()
    plaid_api.decline_next("NSF")
    with pytest.raises(PayoutRefused) as refused:
        send(rail, account)
    assert refused.value.decline_code == "NSF" and refused.value.status == 402
    assert refused.value.code == "payout_refused" and "too low" in refused.value.message
    assert refused.value.to_dict()["decline_code"] == "NSF"
    # Plaid keeps the decision for the key: a retry is refused the same way, nothing is created.
    with pytest.raises(PayoutRefused, match="NSF"):
        send(rail, account)
    assert bodies(plaid_api, CREATE) == [] and plaid_api.transfers == {}

    plaid_api.decline_next("RISK")
    with pytest.raises(PayoutRefused, match="too risky") as risky:
        send(rail, account, idempotency_key="po_risk")
    assert risky.value.decline_code == "RISK"

    # A credit larger than the Ledger can fund is declined NSF, as Plaid does.
    plaid_api.ledger_available = Decimal("5.00")
    with pytest.raises(PayoutRefused, match="NSF"):
        send(rail, account, amount=501, idempotency_key="po_big")
    assert send(rail, account, amount=500, idempotency_key="po_small").status == "pending"

    plaid_api.decline_next("ITEM_LOGIN_REQUIRED")
    with pytest.raises(PayoutRefused, match="reconnect the bank account") as login:
        send(rail, account, amount=100, idempotency_key="po_login")
    assert login.value.decline_code == "ITEM_LOGIN_REQUIRED"
    assert plaid_api.authorizations[next(reversed(plaid_api.authorizations))]["decision"] == (
        "user_action_required"
    )


def test_plaids_transfer_errors_refuse_the_payout(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    card = plaid_api.linked_account("credit card")
    with pytest.raises(PayoutRefused, match="checking or savings") as refused:
        send(rail, card)
    assert refused.value.decline_code == "TRANSFER_UNSUPPORTED_ACCOUNT_TYPE"
    with pytest.raises(PayoutRefused, match="reconnect") as expired:
        send(rail, ("access-sandbox-gone", "acc"))
    assert expired.value.decline_code == "INVALID_ACCESS_TOKEN"


def test_plaid_down_or_unreachable_is_a_503(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail, monkeypatch: pytest.MonkeyPatch
):
    account = plaid_api.linked_account()
    for status in (500, 503, 429):
        plaid_api.fail_next(1, status)
        with pytest.raises(RailUnavailable):
            send(rail, account)
    plaid_api.fail_next(1, 502)
    with pytest.raises(RailUnavailable):
        rail.sync(0)
    assert plaid_api.transfers == {}

    # A closed port on loopback: the connection is refused, not hung.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("PLAID_HOST", closed)
    get_settings.cache_clear()
    with pytest.raises(RailUnavailable, match="could not reach Plaid"):
        send(bank_payouts.payout_rail(), account)

    monkeypatch.setenv("PLAID_SECRET", "wrong")
    monkeypatch.setenv("PLAID_HOST", plaid_api.url)
    get_settings.cache_clear()
    with pytest.raises(RailUnavailable, match="not set up"):
        send(bank_payouts.payout_rail(), account)


def test_only_usd_and_plaids_limits_are_checked_before_any_call(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    account = plaid_api.linked_account()
    with pytest.raises(ValidationFailed) as eur:
        send(rail, account, currency="eur")
    assert eur.value.message == (
        "Payouts in EUR need a bank account that takes EUR; Plaid Transfer pays out USD only"
    )
    assert eur.value.param == "currency"
    for bad in (
        {"amount": 0},
        {"amount": -5},
        {"amount": 12.5},
        {"currency": "ZZZ"},
        {"description": "PayPortal payout"},  # 16 characters
        {"idempotency_key": "k" * 51},
        {"legal_name": "  "},
    ):
        with pytest.raises(ValidationFailed):
            send(rail, account, **bad)
    assert plaid_api.requests == []  # none reached Plaid


def test_cancel_works_while_pending_only(plaid_api: FakePlaid, rail: bank_payouts.PayoutRail):
    account = plaid_api.linked_account()
    pending = send(rail, account)
    assert rail.cancel(pending.transfer_id) is True
    assert rail.get(pending.transfer_id).status == "cancelled"
    assert rail.cancel(pending.transfer_id) is False

    posted = send(rail, account, idempotency_key="po_2")
    bank_payouts.simulate(posted.transfer_id, "posted")
    assert rail.cancel(posted.transfer_id) is False
    assert rail.get(posted.transfer_id).status == "posted"
    with pytest.raises(NotFound):
        rail.cancel("00000000-0000-0000-0000-000000000000")


def test_simulated_moves_and_a_return_come_back_through_sync(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail
):
    account = plaid_api.linked_account()
    paid = send(rail, account)
    bounced = send(rail, account, amount=500, idempotency_key="po_2")
    assert [e.event_type for e in rail.sync(0)] == ["pending", "pending"]
    cursor = rail.sync(0)[-1].event_id

    bank_payouts.simulate(paid.transfer_id, "posted")
    bank_payouts.simulate(paid.transfer_id, "settled")
    bank_payouts.simulate(bounced.transfer_id, "posted")
    bank_payouts.simulate(bounced.transfer_id, "returned", "R01")
    sent = bodies(plaid_api, "/sandbox/transfer/simulate")[-1]
    assert sent["failure_reason"]["ach_return_code"] == "R01"

    events = rail.sync(cursor)
    assert [(e.transfer_id, e.event_type) for e in events] == [
        (paid.transfer_id, "posted"),
        (paid.transfer_id, "settled"),
        (bounced.transfer_id, "posted"),
        (bounced.transfer_id, "returned"),
    ]
    assert [e.event_id for e in events] == list(range(cursor + 1, cursor + 5))
    assert all(e.timestamp.tzinfo is not None for e in events)
    returned = events[-1]
    assert (returned.failure_code, returned.failure_message) == ("R01", "Insufficient funds")
    assert events[0].failure_code is None

    # Paging: count limits a page, the last event id is the next cursor, the end is empty.
    first_page = rail.sync(cursor, count=3)
    assert len(first_page) == 3
    assert rail.sync(first_page[-1].event_id) == events[3:]
    assert rail.sync(events[-1].event_id) == []

    state = rail.get(bounced.transfer_id)
    assert (state.status, state.failure_code, state.failure_message) == (
        "returned",
        "R01",
        "Insufficient funds",
    )
    assert rail.get(paid.transfer_id).status == "settled"

    # Plaid's sandbox refuses moves out of order; funds_available is for debits only.
    for transfer_id, event_type in (
        (paid.transfer_id, "funds_available"),
        (paid.transfer_id, "returned"),
        (bounced.transfer_id, "settled"),
    ):
        with pytest.raises(Conflict):
            bank_payouts.simulate(transfer_id, event_type)


def test_simulation_needs_plaids_sandbox(
    plaid_api: FakePlaid, rail: bank_payouts.PayoutRail, monkeypatch: pytest.MonkeyPatch
):
    state = send(rail, plaid_api.linked_account())
    monkeypatch.setenv("PLAID_ENV", "production")
    get_settings.cache_clear()
    before = len(plaid_api.requests)
    with pytest.raises(PermissionDenied, match="sandbox"):
        bank_payouts.simulate(state.transfer_id, "posted")
    assert len(plaid_api.requests) == before
    assert bank_payouts.payout_rail().get(state.transfer_id).status == "pending"
