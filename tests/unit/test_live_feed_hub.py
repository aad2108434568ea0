"""The live feed's hub: one feed per tab (a reconnected tab's new feed ends the old one), the
moment a feed may catch up without losing a change, and figures shared between tabs without
handing one figures read before its payment."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.models import utcnow
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity import accounts
from backend.services.payments.charges import ChargeInput, PaymentMethodInput, charge
from backend.services.reporting import live_feed
from portal.state import live_feed as feed


def run(coro):  # type: ignore[no-untyped-def]
    # A loop of its own in a thread: the browser tests' Playwright may hold this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def merchant(db_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    from backend.core import db as backend_db

    monkeypatch.setattr(backend_db, "get_engine", lambda: db_engine)
    with Session(db_engine, expire_on_commit=False) as db:
        created = accounts.create_merchant(
            db, email="feed@shop.test", password="a long passphrase 1", name="Feed Shop"
        )
        db.commit()
    return created.merchant.id


def pay(db_engine: Engine, merchant_id: str, amount: int) -> None:
    with Session(db_engine, expire_on_commit=False) as db:
        charge(
            db,
            Scope(merchant_id, False),
            ChargeInput(PaymentMethodInput("card", "pm_card_visa"), amount=amount, currency="USD"),
            actor=Actor(ActorType.SYSTEM),
        )
        db.commit()


def test_a_tab_that_subscribes_again_ends_its_old_feed(merchant: str) -> None:
    async def scenario() -> tuple[bool, object, bool, int]:
        hub = feed.Hub()
        old = hub.subscribe("tab", merchant, False)
        other_tab = hub.subscribe("other-tab", merchant, False)
        new = hub.subscribe("tab", merchant, False)  # the websocket came back
        stopped = await asyncio.wait_for(old.queue.get(), 1)
        hub.unsubscribe(old)  # the old feed's cleanup must not drop the new one
        watching = len(hub._subscriptions)
        for sub in (new, other_tab):
            hub.unsubscribe(sub)
        return old.ended, stopped, new.ended, watching

    ended, stopped, new_ended, watching = run(scenario())
    assert ended and stopped is None and not new_ended
    assert watching == 2


def test_ready_means_every_later_change_reaches_the_queue(db_engine: Engine, merchant: str):  # type: ignore[no-untyped-def]
    """A dashboard reads its feed, subscribes, waits for `ready`, then reads what changed
    since its first read: with the queue after that, every payment shows up, and a payment
    made between the two reads comes from the catch-up (the first poll of a new merchant
    hands out nothing of what was already there)."""

    async def scenario() -> tuple[set[int], set[int]]:
        hub = feed.Hub()
        read_at = utcnow()
        await asyncio.to_thread(pay, db_engine, merchant, 1_001)  # after the screen's read
        sub = hub.subscribe("tab", merchant, False)
        await asyncio.wait_for(sub.ready.wait(), 2)
        caught_up = await asyncio.to_thread(
            live_feed.read_payment_changes,
            {(merchant, False)},
            since=read_at - live_feed.LOOKBACK,
        )
        await asyncio.to_thread(pay, db_engine, merchant, 2_002)
        pushed = await asyncio.wait_for(sub.queue.get(), 2)
        hub.unsubscribe(sub)
        return {c.payment.amount for c in caught_up}, {pushed.amount}  # type: ignore[union-attr]

    caught_up, pushed = run(scenario())
    assert 1_001 in caught_up
    assert pushed == {2_002}


def test_tabs_share_a_figures_read_that_began_after_their_payment() -> None:
    calls: list[float] = []
    gate = threading.Event()

    def read() -> int:
        calls.append(time.monotonic())
        gate.wait(2)
        return len(calls)

    async def scenario() -> list[int]:
        hub = feed.Hub()
        asked = time.monotonic()
        first = asyncio.create_task(hub.figures("key", read, not_before=asked))
        await asyncio.sleep(0.05)
        # Ten more tabs whose payment arrived before that read began: they share it.
        others = [
            asyncio.create_task(hub.figures("key", read, not_before=asked)) for _ in range(10)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        shared = await asyncio.gather(first, *others)
        # A payment after that read began needs a read of its own; another key too.
        later = await hub.figures("key", read, not_before=time.monotonic())
        elsewhere = await hub.figures("other key", read, not_before=0)
        again = await hub.figures("key", read, not_before=asked)  # the later read will do
        return [*shared, later, elsewhere, again]

    got = run(scenario())
    assert got[:11] == [1] * 11
    assert got[11:] == [2, 3, 2]
    assert len(calls) == 3


def test_a_failed_figures_read_is_tried_again() -> None:
    outcomes = iter([RuntimeError("database restarting"), 7])

    def read() -> int:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def scenario() -> int:
        hub = feed.Hub()
        with pytest.raises(RuntimeError):
            await hub.figures("key", read, not_before=0)
        return await hub.figures("key", read, not_before=0)

    assert run(scenario()) == 7
