"""The payout rail's offline twin, and the cents <-> Plaid decimal string conversions."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from backend.core.config import get_settings
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.integrations import bank_payouts
from backend.integrations.bank_payouts import PayoutRefused, SandboxPayoutRail

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def twin() -> SandboxPayoutRail:
    return SandboxPayoutRail(clock=Clock())


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("PLAID_CLIENT_ID", "PLAID_SECRET", "PLAID_HOST"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def send(rail: bank_payouts.PayoutRail, **changes: object) -> bank_payouts.TransferState:
    payout: dict[str, object] = {
        "access_token": "access-sandbox-ins_109508-" + "0" * 32,
        "account_id": "ins_109508-checking",
        "amount": 2500,
        "currency": "USD",
        "idempotency_key": "po_1",
        "legal_name": "Platypus Goods LLC",
        "description": "PayPortal po_1",
    }
    return rail.send(**{**payout, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1, "0.01"),
        (9, "0.09"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (1234, "12.34"),
        (100000000, "1000000.00"),
        (10**20 + 7, "1000000000000000000.07"),  # no float would keep this
    ],
)
def test_cents_and_plaids_decimal_strings_round_trip_exactly(cents: int, text: str):
    assert bank_payouts.plaid_amount(cents) == text
    assert bank_payouts.amount_from_plaid(text) == cents


@pytest.mark.parametrize("bad", [0, -1, True, 12.5, "12"])
def test_only_positive_integer_cents_are_payable(bad: object):
    with pytest.raises(ValidationFailed, match="positive integer of cents"):
        bank_payouts.plaid_amount(bad)  # type: ignore[arg-type]


def test_plaid_amounts_read_without_rounding():
    assert bank_payouts.amount_from_plaid("12.3") == 1230
    assert bank_payouts.amount_from_plaid("7") == 700
    for bad in ("12.345", "abc", "NaN", "Infinity", ""):
        with pytest.raises(ValueError):
            bank_payouts.amount_from_plaid(bad)


def test_without_keys_the_process_wide_twin_pays_out(no_keys: None):
    rail = bank_payouts.payout_rail()
    assert rail is bank_payouts.SANDBOX and rail.name == "sandbox"
    assert bank_payouts.payout_rail() is rail
    state = send(rail, idempotency_key=f"po_{datetime.now(UTC).timestamp()}")
    bank_payouts.simulate(state.transfer_id, "posted")
    bank_payouts.simulate(state.transfer_id, "returned")  # R01 unless told otherwise
    returned = rail.get(state.transfer_id)
    assert (returned.status, returned.failure_code) == ("returned", "R01")
    assert returned.failure_message == "Insufficient funds"


def test_a_payout_starts_pending_with_plaid_shaped_ids(twin: SandboxPayoutRail):
    state = send(twin)
    assert UUID.fullmatch(state.transfer_id) and UUID.fullmatch(state.authorization_id or "")
    assert (state.status, state.amount, state.currency) == ("pending", 2500, "USD")
    assert (state.failure_code, state.failure_message) == (None, None)
    assert twin.get(state.transfer_id) == state
    [created] = twin.sync(0)
    assert (created.event_id, created.event_type, created.transfer_id) == (
        1,
        "pending",
        state.transfer_id,
    )
    with pytest.raises(NotFound):
        twin.get("00000000-0000-0000-0000-000000000000")


def test_the_same_key_returns_the_same_payout_and_refuses_another(twin: SandboxPayoutRail):
    first = send(twin)
    assert send(twin) == first
    assert len(twin.sync(0)) == 1
    with pytest.raises(Conflict, match="another payout"):
        send(twin, amount=2501)
    assert send(twin, idempotency_key="po_2").transfer_id != first.transfer_id


def test_the_sandbox_takes_any_iso_currency_and_plaids_other_limits(twin: SandboxPayoutRail):
    assert send(twin, currency="eur", idempotency_key="eur").currency == "EUR"
    assert send(twin, currency="JPY", amount=500, idempotency_key="jpy").amount == 500
    for bad in (
        {"currency": "ZZZ"},
        {"amount": 0},
        {"description": "x" * 16},
        {"description": ""},
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 51},
        {"legal_name": ""},
        {"account_id": ""},
    ):
        with pytest.raises(ValidationFailed):
            send(twin, **bad)


def test_moves_follow_plaids_sandbox_and_sync_pages_them(twin: SandboxPayoutRail):
    paid = send(twin)
    bounced = send(twin, idempotency_key="po_2")
    failed = send(twin, idempotency_key="po_3")
    twin.advance(paid.transfer_id, "posted")
    twin.advance(paid.transfer_id, "settled")
    twin.advance(bounced.transfer_id, "posted")
    twin.advance(bounced.transfer_id, "returned", "R02")
    twin.advance(failed.transfer_id, "failed")

    events = twin.sync(0)
    assert [e.event_id for e in events] == list(range(1, 9))
    assert [(e.transfer_id, e.event_type) for e in events[3:]] == [
        (paid.transfer_id, "posted"),
        (paid.transfer_id, "settled"),
        (bounced.transfer_id, "posted"),
        (bounced.transfer_id, "returned"),
        (failed.transfer_id, "failed"),
    ]
    timestamps = [e.timestamp for e in events]
    assert timestamps == sorted(timestamps) and timestamps[0] > START
    assert (events[6].failure_code, events[6].failure_message) == ("R02", "Account closed")
    assert events[7].failure_code is None and "failed" in (events[7].failure_message or "")

    assert twin.sync(3, count=2) == events[3:5]
    assert twin.sync(5, count=500) == events[5:]
    assert twin.sync(8) == []
    for after_id, count in ((-1, 10), (0, 0), (0, 501)):
        with pytest.raises(ValidationFailed):
            twin.sync(after_id, count)

    assert twin.get(paid.transfer_id).status == "settled"
    assert twin.get(bounced.transfer_id).failure_code == "R02"
    assert twin.get(failed.transfer_id).status == "failed"
    # Out of order, after the end, or funds_available (ACH debits only): refused, nothing moves.
    for transfer_id, event_type in (
        (paid.transfer_id, "funds_available"),
        (paid.transfer_id, "returned"),
        (bounced.transfer_id, "settled"),
        (failed.transfer_id, "posted"),
        (send(twin, idempotency_key="po_4").transfer_id, "settled"),
    ):
        with pytest.raises(Conflict):
            twin.advance(transfer_id, event_type)
    assert len(twin.sync(0)) == 9
    with pytest.raises(NotFound):
        twin.advance("nope", "posted")


def test_cancel_while_pending_only(twin: SandboxPayoutRail):
    pending = send(twin)
    assert twin.cancel(pending.transfer_id) is True
    assert twin.get(pending.transfer_id).status == "cancelled"
    assert twin.cancel(pending.transfer_id) is False
    assert twin.sync(0)[-1].event_type == "cancelled"
    posted = send(twin, idempotency_key="po_2")
    twin.advance(posted.transfer_id, "posted")
    assert twin.cancel(posted.transfer_id) is False
    with pytest.raises(Conflict):
        twin.advance(pending.transfer_id, "posted")
    with pytest.raises(NotFound):
        twin.cancel("nope")


def test_decline_next_refuses_one_new_payout_and_remembers_it(twin: SandboxPayoutRail):
    twin.decline_next("NSF")
    with pytest.raises(PayoutRefused) as refused:
        send(twin)
    assert (refused.value.decline_code, refused.value.status) == ("NSF", 402)
    with pytest.raises(PayoutRefused, match="NSF"):
        send(twin)  # the same key keeps its decision, as Plaid's authorizations do
    assert twin.sync(0) == []
    assert send(twin, idempotency_key="po_2").status == "pending"
    twin.decline_next("SOMETHING_NEW")
    with pytest.raises(PayoutRefused, match=r"declined the payout \(SOMETHING_NEW\)"):
        send(twin, idempotency_key="po_3")


def test_concurrent_retries_pay_once_and_event_ids_stay_unique(twin: SandboxPayoutRail):
    results: list[str] = []
    barrier = threading.Barrier(8)

    def pay(key: str) -> None:
        barrier.wait()
        results.append(send(twin, idempotency_key=key).transfer_id)

    threads = [threading.Thread(target=pay, args=("same",)) for _ in range(4)]
    threads += [threading.Thread(target=pay, args=(f"k{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 5
    ids = [e.event_id for e in twin.sync(0)]
    assert ids == list(range(1, 6))
