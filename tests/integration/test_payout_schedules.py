"""Payout schedules: when each interval pays (weekly anchors, monthly anchors on short months),
the minimum, and the hourly job paying once a day however often it runs (sandbox rail)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.models import AuditLog
from backend.models.enums import ActorType
from backend.models.ledger import Payout, PayoutSchedule
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.identity.sessions import SessionContext
from backend.services.payouts import scheduled, schedules
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import (
    add_bank_account,
    assert_ledger_consistent,
    balance_row,
    fund,
)


def _schedule(interval: str, weekly: int = 0, monthly: int = 1) -> PayoutSchedule:
    return PayoutSchedule(
        merchant_id="m",
        livemode=False,
        currency="USD",
        interval=interval,
        weekly_anchor=weekly,
        monthly_anchor=monthly,
    )


def test_when_each_interval_is_due() -> None:
    monday, friday = date(2027, 3, 1), date(2027, 3, 5)
    assert schedules.due(_schedule("daily"), monday)
    assert not schedules.due(_schedule("manual"), monday)
    assert schedules.due(_schedule("weekly", weekly=0), monday)
    assert not schedules.due(_schedule("weekly", weekly=0), friday)
    assert schedules.due(_schedule("weekly", weekly=4), friday)
    # A monthly anchor past a short month's end pays on its last day.
    jan31 = _schedule("monthly", monthly=31)
    assert schedules.due(jan31, date(2027, 1, 31))
    assert schedules.due(jan31, date(2027, 2, 28))
    assert not schedules.due(jan31, date(2027, 2, 27))
    assert schedules.due(jan31, date(2028, 2, 29))  # leap year
    assert not schedules.due(jan31, date(2028, 2, 28))
    assert schedules.due(jan31, date(2027, 4, 30))
    assert schedules.due(_schedule("monthly", monthly=15), date(2027, 2, 15))
    assert not schedules.due(_schedule("monthly", monthly=15), date(2027, 2, 16))


@pytest.fixture
def shop(configured_app: str) -> Merchant:
    from backend.api import create_app

    merchant = new_merchant(TestClient(create_app()))
    add_bank_account(merchant.merchant_id)
    fund(merchant)
    return merchant


def _payouts(merchant_id: str) -> list[Payout]:
    with session_scope(readonly=True) as db:
        return list(db.exec(select(Payout).where(Payout.merchant_id == merchant_id)).all())


def test_the_daily_job_pays_the_whole_balance_once_a_day(shop: Merchant) -> None:
    available = balance_row(shop.merchant_id).available
    now = datetime.now(UTC) + timedelta(days=10)
    with time_machine.travel(now, tick=False):
        scheduled.create_scheduled(now)
        scheduled.create_scheduled(now + timedelta(hours=1))  # the hourly job again
    [payout] = _payouts(shop.merchant_id)
    assert (payout.amount, payout.automatic, payout.status) == (available, True, "in_transit")
    assert balance_row(shop.merchant_id).available == 0
    assert_ledger_consistent(shop.merchant_id)


def test_minimum_and_manual_schedules_hold_the_money(shop: Merchant) -> None:
    scope = Scope(shop.merchant_id, False)
    available = balance_row(shop.merchant_id).available
    with session_scope() as db:
        schedules.set_schedule(
            db, scope, SYSTEM, "usd", interval="daily", minimum_amount=available + 1
        )
    now = datetime.now(UTC) + timedelta(days=10)
    decisions = scheduled.create_scheduled(now)
    assert [d.reason for d in decisions if d.key.merchant_id == shop.merchant_id] == [
        "below_minimum"
    ]
    with session_scope() as db:
        schedules.set_schedule(db, scope, SYSTEM, "USD", interval="manual")
    scheduled.create_scheduled(now)
    assert _payouts(shop.merchant_id) == []
    with session_scope() as db:
        schedules.set_schedule(db, scope, SYSTEM, "USD", interval="daily", minimum_amount=available)
    scheduled.create_scheduled(now)
    assert [p.amount for p in _payouts(shop.merchant_id)] == [available]
    with session_scope(readonly=True) as db:
        actions = db.exec(
            select(AuditLog.action).where(AuditLog.merchant_id == shop.merchant_id)
        ).all()
    assert actions.count("payout_schedule.updated") == 3


def test_monthly_on_the_31st_pays_on_february_28(shop: Merchant) -> None:
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        schedules.set_schedule(db, scope, SYSTEM, "USD", interval="monthly", monthly_anchor=31)
    feb27 = datetime(2027, 2, 27, 9, tzinfo=UTC)
    feb28 = datetime(2027, 2, 28, 9, tzinfo=UTC)
    with time_machine.travel(feb27, tick=False):
        scheduled.create_scheduled(feb27)
    assert _payouts(shop.merchant_id) == []
    with time_machine.travel(feb28, tick=False):
        scheduled.create_scheduled(feb28)
        scheduled.create_scheduled(feb28 + timedelta(hours=3))
    [payout] = _payouts(shop.merchant_id)
    assert payout.created_at.date() == date(2027, 2, 28)


def test_only_the_owner_sets_the_schedule(shop: Merchant) -> None:
    scope = Scope(shop.merchant_id, False)

    def member(role: str) -> SessionContext:
        return SessionContext("s", "u", "a@b.test", shop.merchant_id, "Shop", role, False, True)

    user = Actor(ActorType.USER, "u")
    with session_scope() as db:
        with pytest.raises(PermissionDenied):
            schedules.set_schedule(
                db, scope, user, "USD", interval="weekly", member=member("admin")
            )
        with pytest.raises(PermissionDenied):
            schedules.set_schedule(db, scope, user, "USD", interval="weekly")
        with pytest.raises(ValidationFailed):
            schedules.set_schedule(db, scope, SYSTEM, "USD", interval="hourly")
        with pytest.raises(ValidationFailed):
            schedules.set_schedule(db, scope, SYSTEM, "USD", interval="weekly", weekly_anchor=6)
        done = schedules.set_schedule(
            db, scope, user, "USD", interval="weekly", weekly_anchor=4, member=member("owner")
        )
        assert schedules.schedule_view(done)["weeklyAnchor"] == 4
