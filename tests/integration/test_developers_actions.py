"""The Developers pages' server-side actions: permissions, step-up, keys and webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import AuthenticationFailed, NotFound, PermissionDenied
from backend.core.ids import new_id
from backend.models import ApiKey, AuditLog, Membership, User, utcnow
from backend.models.enums import Role
from backend.services.identity import accounts, api_keys, email_verification, sessions
from backend.services.identity.step_up import StepUpRequired, TwoFactorSetupRequired
from backend.services.merchant import developers
from backend.services.webhooks.outbound import signing as webhook_signing
from backend.tasks import outbound
from tests.fakes.receiver import Receiver, Reply
from tests.integration.identity_support import fresh, member

PASSWORD = "correct horse battery"


@pytest.fixture
def loopback(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def merchant_id(configured_app: str) -> str:
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=f"owner-{new_id('m')}@shop.test", password=PASSWORD
        )
        return created.merchant.id


def test_an_analyst_is_refused_on_the_server(merchant_id: str):
    analyst = member(merchant_id, Role.ANALYST)
    fresh(analyst)  # even with a fresh code: the role decides
    for action in (
        lambda db: developers.list_api_keys(db, analyst),
        lambda db: developers.create_api_key(db, analyst, "Mine"),
        lambda db: developers.list_endpoints(db, analyst),
        lambda db: developers.create_endpoint(
            db, analyst, url="https://example.com/h", enabled_events=["*"]
        ),
    ):
        with pytest.raises(PermissionDenied, match="Analyst"), session_scope() as db:
            action(db)
    with session_scope() as db:
        assert db.exec(select(ApiKey).where(ApiKey.name == "Mine")).all() == []


def test_rolling_a_key_needs_a_fresh_code_and_keeps_the_old_one_for_the_grace(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    with session_scope() as db:
        issued = developers.create_api_key(db, dev, "Checkout server")  # test mode: no step-up
    with pytest.raises(StepUpRequired), session_scope() as db:
        developers.roll_api_key(db, dev, issued.api_key.id, "24h")

    fresh(dev)
    with session_scope() as db:
        rolled = developers.roll_api_key(db, dev, issued.api_key.id, "24h")
    assert rolled.secret != issued.secret and rolled.api_key.name == "Checkout server"
    with session_scope() as db:
        assert api_keys.authenticate(db, issued.secret)  # still works during the grace period
        assert api_keys.authenticate(db, rolled.secret)
        old = db.get(ApiKey, issued.api_key.id)
        assert old is not None and api_keys.status(old) == "expiring"
        assert timedelta(hours=23) < old.expires_at - utcnow() <= timedelta(hours=24)  # type: ignore[operator]

    with session_scope() as db:
        developers.revoke_api_key(db, dev, issued.api_key.id)
    with pytest.raises(AuthenticationFailed), session_scope() as db:
        api_keys.authenticate(db, issued.secret)
    with session_scope() as db:
        actions = db.exec(
            select(AuditLog.action).where(AuditLog.object_id == issued.api_key.id)
        ).all()
    assert {"api_key.created", "api_key.rolled", "api_key.revoked"} <= set(actions)


def test_roll_now_stops_the_old_key_at_once(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    fresh(dev)
    with session_scope() as db:
        issued = developers.create_api_key(db, dev, "Cron")
    with session_scope() as db:
        developers.roll_api_key(db, dev, issued.api_key.id, "now")
    with pytest.raises(AuthenticationFailed), session_scope() as db:
        api_keys.authenticate(db, issued.secret)


def test_live_keys_need_a_fresh_code_and_2fa_at_all(merchant_id: str):
    without_2fa = replace(member(merchant_id, Role.OWNER, two_factor=False), livemode=True)
    with pytest.raises(TwoFactorSetupRequired, match="Turn on two-factor"), session_scope() as db:
        developers.create_api_key(db, without_2fa, "Live server")
    owner = replace(member(merchant_id, Role.OWNER), livemode=True)
    with pytest.raises(StepUpRequired), session_scope() as db:
        developers.create_api_key(db, owner, "Live server")
    with session_scope() as db:
        # This merchant's keys only: the PostgreSQL database is shared by the session's tests.
        live = select(ApiKey).where(ApiKey.livemode, ApiKey.merchant_id == merchant_id)
        assert db.exec(live).all() == []
    fresh(owner)
    with session_scope() as db:
        issued = developers.create_api_key(db, owner, "Live server")
    assert issued.secret.startswith("sk_live_")


def test_keys_of_another_merchant_or_mode_are_not_found(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    fresh(dev)
    with session_scope() as db:
        other = accounts.create_merchant(db, email=f"o-{new_id('x')}@shop.test", password=PASSWORD)
    with session_scope() as db:
        foreign = db.exec(select(ApiKey).where(ApiKey.merchant_id == other.merchant.id)).one()
    with pytest.raises(NotFound), session_scope() as db:
        developers.revoke_api_key(db, dev, foreign.id)
    with pytest.raises(NotFound), session_scope() as db:
        developers.roll_api_key(db, dev, foreign.id, "now")


def test_webhook_endpoint_log_and_redelivery(merchant_id: str, loopback: None):
    dev = member(merchant_id, Role.DEVELOPER)
    with Receiver() as hook:
        hook.script(Reply(500))
        with session_scope() as db:
            created = developers.create_endpoint(
                db, dev, url=hook.url, enabled_events=["payment.succeeded"]
            )
        assert created.secret.startswith("whsec_")
        endpoint_id = created.endpoint.id
        with session_scope() as db:
            delivery_id = developers.send_test_event(db, dev, endpoint_id)
        outbound.enqueue_deliveries([delivery_id])  # runs inline in the tests
        with session_scope() as db:
            page = developers.delivery_log(db, dev, endpoint_id)
        (logged,) = page.deliveries
        assert logged.delivery.status == "pending" and logged.attempts[0].status_code == 500

        with session_scope() as db:
            developers.redeliver(db, dev, delivery_id)
        outbound.enqueue_deliveries([delivery_id])
        with session_scope() as db:
            detail = developers.delivery_detail(db, dev, delivery_id)
            body = webhook_signing.event_body(detail.event)
        assert detail.delivery.status == "succeeded"
        assert [a.status_code for a in detail.attempts] == [500, 200]
        assert hook.received[-1].body == body

    # Rolling the secret needs a fresh code; an analyst cannot redeliver.
    with pytest.raises(StepUpRequired), session_scope() as db:
        developers.roll_endpoint_secret(db, dev, endpoint_id, 24)
    analyst = member(merchant_id, Role.ANALYST)
    with pytest.raises(PermissionDenied), session_scope() as db:
        developers.redeliver(db, analyst, delivery_id)
    fresh(dev)
    with session_scope() as db:
        rolled = developers.roll_endpoint_secret(db, dev, endpoint_id, 24)
        assert rolled.secret != created.secret
    with session_scope() as db:
        developers.set_endpoint_enabled(db, dev, endpoint_id, False)
        developers.delete_endpoint(db, dev, endpoint_id)
    with session_scope() as db:
        actions = set(
            db.exec(select(AuditLog.action).where(AuditLog.merchant_id == merchant_id)).all()
        )
    assert {
        "webhook_endpoint.created",
        "webhook_delivery.test_sent",
        "webhook_delivery.redelivered",
        "webhook_endpoint.secret_rolled",
        "webhook_endpoint.deleted",
    } <= actions


def test_mode_switch_is_kept_on_the_session(merchant_id: str):
    with session_scope() as db:
        owner = db.exec(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.merchant_id == merchant_id)
        ).one()
        membership = db.exec(select(Membership).where(Membership.user_id == owner.id)).one()
        token, row = sessions.start_session(
            db, user_id=owner.id, merchant_id=membership.merchant_id
        )
    with session_scope() as db, pytest.raises(email_verification.EmailNotVerified):
        sessions.set_livemode(db, row.id, True)  # live money waits for a confirmed address
    with session_scope() as db:
        assert sessions.resolve(db, token).livemode is False
        db.get(User, owner.id).email_verified_at = utcnow()
    with session_scope() as db:
        sessions.set_livemode(db, row.id, True)
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
        assert ctx is not None and ctx.livemode
        sessions.set_livemode(db, row.id, False)
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
        assert ctx is not None and not ctx.livemode
        changes = db.exec(
            select(AuditLog.details).where(
                AuditLog.action == "session.mode_changed", AuditLog.merchant_id == merchant_id
            )
        ).all()
    assert [c["livemode"] for c in changes] == [True, False]
