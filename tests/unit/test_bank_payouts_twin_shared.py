"""The payout rail's twin shared between processes (one SQLite file: the web app sends, the job
worker syncs and reconciles) and moving by itself like Stripe's test mode, on an injected clock."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.core.config import PROJECT_ROOT, Settings, get_settings
from backend.core.errors import Conflict, NotFound
from backend.integrations import bank_payouts
from backend.integrations.bank_payouts import PayoutRefused, SandboxPayoutRail, TransferState

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POST, SETTLE = timedelta(seconds=20), timedelta(seconds=60)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = START + timedelta(seconds=seconds)


def send(rail: bank_payouts.PayoutRail, key: str = "po_1", amount: int = 2500) -> TransferState:
    return rail.send(
        access_token="access-sandbox-ins_109508-" + "0" * 32,
        account_id="ins_109508-checking",
        amount=amount,
        currency="USD",
        idempotency_key=key,
        legal_name="Platypus Goods LLC",
        description="PayPortal",
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "rail.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_two_instances_on_one_file_share_transfers_events_keys_and_declines(path: Path):
    web, worker = SandboxPayoutRail(path), SandboxPayoutRail(path)
    sent = send(web)
    assert worker.get(sent.transfer_id) == sent
    [created] = worker.sync(0)
    assert (created.event_id, created.transfer_id, created.event_type) == (
        1,
        sent.transfer_id,
        "pending",
    )
    # The same key, from the other process, is the same transfer; another body is refused.
    assert send(worker) == sent
    with pytest.raises(Conflict, match="another payout"):
        send(worker, amount=2501)
    assert worker.cancel(sent.transfer_id) is True
    assert web.get(sent.transfer_id).status == "cancelled"
    assert web.cancel(sent.transfer_id) is False
    assert [e.event_type for e in web.sync(0)] == ["pending", "cancelled"]
    # A decline queued by one process refuses the other's next new payout, and is kept.
    web.decline_next("NSF")
    with pytest.raises(PayoutRefused, match="NSF"):
        send(worker, key="po_2")
    with pytest.raises(PayoutRefused, match="NSF"):
        send(web, key="po_2")
    other = send(web, key="po_3")
    worker.advance(other.transfer_id, "posted")
    worker.advance(other.transfer_id, "settled")
    assert web.get(other.transfer_id).status == "settled"
    assert [e.event_id for e in web.sync(0)] == list(range(1, 6))
    assert web.sync(2) == worker.sync(2)
    with pytest.raises(NotFound):
        worker.get("nope")


def test_the_file_is_created_in_wal_mode_and_outlives_its_instance(tmp_path: Path):
    path = tmp_path / "var" / "rail.db"  # its folder is made too
    sent = send(SandboxPayoutRail(path))
    assert SandboxPayoutRail(path).get(sent.transfer_id) == sent
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_in_memory_twins_share_nothing(path: Path):
    first = SandboxPayoutRail()
    sent = send(first)
    with pytest.raises(NotFound):
        SandboxPayoutRail(":memory:").get(sent.transfer_id)


def _send_from_another_process(job: tuple[str, str]) -> str:
    """In a separate process: pay with this key on the shared file, return the transfer id."""
    path, key = job
    return send(SandboxPayoutRail(path), key=key).transfer_id


def test_separate_processes_sending_at_once_pay_each_key_once(path: Path):
    jobs = [(str(path), "same")] * 4 + [(str(path), f"own_{i}") for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        transfer_ids = pool.map(_send_from_another_process, jobs)
    assert len(set(transfer_ids[:4])) == 1
    assert len(set(transfer_ids)) == 5
    events = SandboxPayoutRail(path).sync(0)
    assert [e.event_id for e in events] == list(range(1, 6))
    assert {e.transfer_id for e in events} == set(transfer_ids)


def test_a_transfer_nobody_moves_is_posted_then_settled_on_time(path: Path, clock: Clock):
    web = SandboxPayoutRail(path, clock=clock, post_after=POST, settle_after=SETTLE)
    worker = SandboxPayoutRail(path, clock=clock, post_after=POST, settle_after=SETTLE)
    first = send(web, "po_1")
    clock.at(10)
    second = send(web, "po_2")
    clock.at(19)
    assert worker.get(first.transfer_id).status == "pending"
    assert [e.event_type for e in worker.sync(0)] == ["pending", "pending"]
    clock.at(20)
    assert worker.get(first.transfer_id).status == "posted"
    clock.at(500)  # nobody asked for a long while: the history is written as it happened
    events = worker.sync(2)
    assert [(e.transfer_id, e.event_type, e.timestamp - START) for e in events] == [
        (first.transfer_id, "posted", POST),
        (second.transfer_id, "posted", POST + timedelta(seconds=10)),
        (first.transfer_id, "settled", SETTLE),
        (second.transfer_id, "settled", SETTLE + timedelta(seconds=10)),
    ]
    assert web.get(second.transfer_id).status == "settled"
    assert [e.event_id for e in web.sync(0)] == list(range(1, 7))  # nothing written twice


def test_a_manual_move_wins_over_the_clock(path: Path, clock: Clock):
    rail = SandboxPayoutRail(path, clock=clock, post_after=POST, settle_after=SETTLE)
    held = send(rail, "held")
    returned = send(rail, "returned")
    late = send(rail, "late")
    clock.at(5)
    rail.advance(held.transfer_id, "posted")  # by hand: it now waits for the tester
    clock.at(30)
    rail.advance(returned.transfer_id, "returned", "R01")  # after its automatic post
    assert rail.cancel(late.transfer_id) is False  # posted by itself at 20 s: too late
    clock.at(3600)
    assert rail.get(held.transfer_id).status == "posted"
    back = rail.get(returned.transfer_id)
    assert (back.status, back.failure_code) == ("returned", "R01")
    assert rail.get(late.transfer_id).status == "settled"
    rail.advance(held.transfer_id, "settled")
    assert rail.get(held.transfer_id).status == "settled"
    moves = [(e.transfer_id, e.event_type) for e in rail.sync(3)]
    assert moves == [
        (held.transfer_id, "posted"),
        (returned.transfer_id, "posted"),
        (late.transfer_id, "posted"),
        (returned.transfer_id, "returned"),
        (late.transfer_id, "settled"),
        (held.transfer_id, "settled"),
    ]


def test_without_a_pace_nothing_moves_by_itself(path: Path, clock: Clock):
    rail = SandboxPayoutRail(path, clock=clock)
    sent = send(rail)
    clock.at(10**6)
    assert rail.get(sent.transfer_id).status == "pending"
    assert len(rail.sync(0)) == 1


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("PLAID_CLIENT_ID", "PLAID_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_the_process_twin_follows_the_settings(settings_env: pytest.MonkeyPatch, path: Path):
    # The tests' own: in memory, moved by hand only ("off").
    assert str(get_settings().sandbox_rail_path) == ":memory:"
    assert get_settings().sandbox_rail_post_seconds is None
    assert get_settings().sandbox_rail_settle_seconds is None
    # `make run`'s: a file beside the jobs' one, posted after 20 s, paid after 60 s.
    for name in ("SANDBOX_RAIL_PATH", "SANDBOX_RAIL_POST_SECONDS", "SANDBOX_RAIL_SETTLE_SECONDS"):
        settings_env.delenv(name)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.sandbox_rail_path == PROJECT_ROOT / "payportal-sandbox-rail.db"
    assert (defaults.sandbox_rail_post_seconds, defaults.sandbox_rail_settle_seconds) == (20, 60)

    settings_env.setenv("SANDBOX_RAIL_PATH", str(path))
    settings_env.setenv("SANDBOX_RAIL_POST_SECONDS", "0")
    settings_env.setenv("SANDBOX_RAIL_SETTLE_SECONDS", "0")
    get_settings.cache_clear()
    sent = send(bank_payouts.payout_rail(), key=f"po_{datetime.now(UTC).timestamp()}")
    assert bank_payouts.SANDBOX.get(sent.transfer_id).status == "settled"
    assert SandboxPayoutRail(path).get(sent.transfer_id).status == "settled"
