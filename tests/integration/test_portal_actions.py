"""The portal pages' service calls (payments/portal_actions, processor_pages, link_pages,
merchant/portal_settings, bank_page, webhook_pages, reporting/audit_page): each refuses a role
without the permission and never reaches another merchant's objects (404, not 403), whatever
the page shows; a delivery made due is enqueued only after its commit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core import enqueue
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import NotFound, PermissionDenied
from backend.models import AuditLog, Payment, WebhookDelivery
from backend.models.enums import Role
from backend.services.checkout import link_pages
from backend.services.customers import pages as customer_pages
from backend.services.identity.sessions import SessionContext
from backend.services.identity.step_up import StepUpRequired
from backend.services.merchant import bank_page, portal_settings, webhook_pages
from backend.services.payments import portal_actions, processor_pages
from backend.services.reporting import audit_page
from backend.services.reporting.audit_log import parse_filters
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.integration.identity_support import member


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client, "Shop")


@pytest.fixture
def other(client: TestClient) -> Shop:
    return new_merchant(client, "Other shop")


def authorized(shop: Shop) -> str:
    response = shop.charge(capture=False)
    assert response.status_code == 201, response.text
    return response.json()["payment"]["id"]


def status_of(payment_id: str) -> str:
    with session_scope(readonly=True) as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        return payment.status


def test_a_role_without_the_permission_is_refused_and_nothing_changes(shop: Shop) -> None:
    payment_id = authorized(shop)
    analyst = member(shop.merchant_id, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        portal_actions.capture(analyst, payment_id, "", "en_US", ip_address=None)
    with pytest.raises(PermissionDenied):
        portal_actions.void(analyst, payment_id, ip_address=None)
    with pytest.raises(PermissionDenied):
        portal_actions.block_payment_value(analyst, payment_id, "email")
    with pytest.raises(PermissionDenied):
        portal_actions.close_review(analyst, payment_id, "approved", ip_address=None)
    with pytest.raises(PermissionDenied):
        link_pages.save_link(analyst, "", {"name": "Mug", "unit_amount": "12"}, pricing="fixed")
    with pytest.raises(PermissionDenied):
        portal_settings.save_risk_thresholds(analyst, "50", "90", ip_address=None)
    with pytest.raises(PermissionDenied):
        portal_settings.save_brand_color(analyst, "#112233")
    with pytest.raises(PermissionDenied):
        portal_settings.save_dunning(analyst, "1", "unpaid", False, ip_address=None)
    with pytest.raises(PermissionDenied):
        processor_pages.delete(analyst, "gwc_nothing", ip_address=None)
    with pytest.raises(PermissionDenied):
        audit_page.audit_choices(analyst)
    support = member(shop.merchant_id, Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        bank_page.start_connect(support)
    assert status_of(payment_id) == "authorized"

    # The page still reads, and says what this member may do.
    page = portal_actions.payment_page(analyst, payment_id, "en_US")
    assert page.payment.id == payment_id
    assert not (page.can_capture or page.can_void or page.can_refund or page.blockable)


def test_a_permitted_member_acts_and_the_audit_row_names_them(shop: Shop) -> None:
    payment_id = authorized(shop)
    support = member(shop.merchant_id, Role.SUPPORT)
    page = portal_actions.payment_page(support, payment_id, "en_US")
    assert page.can_capture and page.can_void
    captured = portal_actions.capture(support, payment_id, "60.00", "en_US", ip_address="1.2.3.4")
    assert captured.amount_captured == 6_000
    with session_scope(readonly=True) as db:
        rows = db.exec(select(AuditLog).where(AuditLog.object_id == payment_id)).all()
    assert any(r.actor_id == support.user_id and r.ip_address == "1.2.3.4" for r in rows)


def test_the_dunning_schedule_is_set_on_the_settings_page(shop: Shop) -> None:
    from backend.core.errors import ValidationFailed

    owner = member(shop.merchant_id, Role.OWNER)
    assert portal_settings.settings_page(owner).dunning.retry_days == "3, 5, 7"
    portal_settings.save_dunning(owner, "2, 4; 9", "unpaid", False, ip_address="1.2.3.4")
    saved = portal_settings.settings_page(owner).dunning
    assert (saved.retry_days, saved.end, saved.portal_allows_cancel) == ("2, 4, 9", "unpaid", False)
    for typed in ("2, two", "5, 3", "0", "-1"):
        with pytest.raises(ValidationFailed):
            portal_settings.save_dunning(owner, typed, "cancel", True, ip_address=None)
    assert portal_settings.settings_page(owner).dunning.retry_days == "2, 4, 9"


def test_another_merchants_objects_are_not_found(shop: Shop, other: Shop) -> None:
    payment_id = authorized(shop)
    link = link_pages.save_link(
        member(shop.merchant_id, Role.OWNER),
        "",
        {"name": "Mug", "currency": "USD", "unit_amount": "12.50", "max_quantity": "2"},
        pricing="fixed",
    )
    stranger = member(other.merchant_id, Role.OWNER)
    for attempt in (
        lambda: portal_actions.payment_page(stranger, payment_id, "en_US"),
        lambda: portal_actions.capture(stranger, payment_id, "", "en_US", ip_address=None),
        lambda: portal_actions.void(stranger, payment_id, ip_address=None),
        lambda: portal_actions.block_payment_value(stranger, payment_id, "email"),
        lambda: link_pages.get_link(stranger, link.id),
        lambda: link_pages.set_active(stranger, link.id, False),
        lambda: link_pages.qr_code(stranger, link.id, "png"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert status_of(payment_id) == "authorized"
    assert not customer_pages.customer_list(stranger, query="", cursor=None, limit=25).customers

    # The same link, in the other mode of its own merchant, is not found either.
    owner_live = replace(member(shop.merchant_id, Role.OWNER), livemode=True)
    with pytest.raises(NotFound):
        link_pages.get_link(owner_live, link.id)


def test_live_processor_changes_ask_for_a_fresh_code(shop: Shop) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    live: SessionContext = replace(owner, livemode=True)
    assert processor_pages.needs_step_up(live)
    assert not processor_pages.needs_step_up(owner)
    with pytest.raises(StepUpRequired):
        processor_pages.move(live, "gwc_nothing", 1, ip_address=None)
    with pytest.raises(StepUpRequired):
        bank_page.start_connect(owner)


@pytest.fixture
def loopback(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_test_event_is_enqueued_after_its_commit(
    shop: Shop, loopback: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    developer = member(shop.merchant_id, Role.DEVELOPER)
    endpoint = webhook_pages.create_endpoint(
        developer, url="http://127.0.0.1:9/hook", enabled_events=["*"], description=None
    )
    seen: list[tuple[str, bool]] = []

    def record(name: str, ids: Iterable[str]) -> None:
        assert name == enqueue.WEBHOOK_DELIVERIES
        with session_scope(readonly=True) as db:  # a worker's own unit of work sees the row
            seen.extend((i, db.get(WebhookDelivery, i) is not None) for i in ids)

    monkeypatch.setattr(enqueue, "enqueue", record)
    webhook_pages.send_test_event(developer, endpoint.endpoint.id)
    assert len(seen) == 1 and seen[0][1]

    analyst = member(shop.merchant_id, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        webhook_pages.send_test_event(analyst, endpoint.endpoint.id)
    stranger = member(new_merchant(shop.client, "Third").merchant_id, Role.DEVELOPER)
    with pytest.raises(NotFound):
        webhook_pages.send_test_event(stranger, endpoint.endpoint.id)
    assert len(seen) == 1


def test_the_audit_page_reads_only_its_merchant(shop: Shop, other: Shop) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    portal_settings.save_brand_color(owner, "#112233")
    page = audit_page.audit_page(owner, parse_filters(), "UTC", None)
    assert any(e.action_label for e in page.entries)
    stranger = member(other.merchant_id, Role.OWNER)
    theirs = audit_page.audit_page(stranger, parse_filters(), "UTC", None)
    assert {e.id for e in theirs.entries}.isdisjoint({e.id for e in page.entries})
