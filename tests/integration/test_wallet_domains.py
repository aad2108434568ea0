"""The checkout's domain registered with Stripe for Apple Pay and Google Pay (the real stripe SDK
against the local Stripe fake, on SQLite and PostgreSQL), its status on the Processors page's
service, the admin CLI, and Apple's domain-association file at the site root.

Only the host of APP_URL is ever registered, and here it is always localhost or 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import NotFound, PermissionDenied, Unavailable, ValidationFailed
from backend.models import AuditLog, PaymentMethodDomain
from backend.services.checkout import wallet_domains
from tests.fakes.stripe_api import FakeStripe
from tests.integration.stripe_support import platform_stripe

KEY = "sk_test_fake_wallet_domains"
ASSOCIATION = wallet_domains.ASSOCIATION_PATH
APPLE_SAYS = "We could not verify the domain: the domain association file was not found."


@pytest.fixture(autouse=True)
def no_domains(configured_app: str) -> None:
    """The table is the platform's, not a merchant's: PostgreSQL's one database is shared by
    the session's tests, so each starts without registrations."""
    with session_scope() as db:
        for row in db.exec(select(PaymentMethodDomain)):
            db.delete(row)


@pytest.fixture
def fake(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    monkeypatch.setenv("APP_URL", "http://localhost:3000")
    with platform_stripe(monkeypatch, KEY) as fake:
        yield fake


def rows() -> list[PaymentMethodDomain]:
    with session_scope(readonly=True) as db:
        return list(db.exec(select(PaymentMethodDomain)))


def register() -> PaymentMethodDomain:
    with session_scope() as db:
        row = wallet_domains.register(db)
        db.expunge(row)
    return row


def test_registering_the_checkout_domain_through_stripes_api(fake: FakeStripe) -> None:
    row = register()
    [created] = fake.calls("POST", "/v1/payment_method_domains")
    assert created.params == {"domain_name": "localhost", "enabled": "true"}
    assert created.idempotency_key == "payment-method-domain:localhost"
    assert row.id in fake.payment_method_domains and row.id.startswith("pmd_")
    assert (row.domain_name, row.livemode, row.enabled) == ("localhost", False, True)
    assert (row.apple_pay_status, row.google_pay_status) == ("active", "active")
    assert row.apple_pay_error is None

    view = wallet_domains.view()
    assert view.stripe and view.registered and view.domain == "localhost"
    assert (view.apple_pay, view.google_pay) == ("active", "active")


def test_registering_again_checks_the_registration_it_has(fake: FakeStripe) -> None:
    first = register()
    fake.apple_pay_error = APPLE_SAYS  # the association file went missing since
    again = register()
    assert len(fake.calls("POST", "/v1/payment_method_domains")) == 1  # never a second create
    [validated] = fake.calls("POST", f"/v1/payment_method_domains/{first.id}/validate")
    assert validated.status == 200
    assert again.id == first.id and len(rows()) == 1
    assert (again.apple_pay_status, again.apple_pay_error) == ("inactive", APPLE_SAYS)
    assert again.google_pay_status == "active"


def test_check_again_once_the_association_file_is_up(fake: FakeStripe) -> None:
    with session_scope() as db, pytest.raises(NotFound):
        wallet_domains.check(db)  # nothing registered yet: nothing asked of Stripe
    assert fake.calls("POST") == []

    fake.apple_pay_error = APPLE_SAYS
    assert register().apple_pay_status == "inactive"
    assert wallet_domains.view().apple_pay_error == APPLE_SAYS
    fake.apple_pay_error = None
    with session_scope() as db:
        checked = wallet_domains.check(db)
        assert (checked.apple_pay_status, checked.apple_pay_error) == ("active", None)


def test_the_domain_is_app_urls_host(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import _reset_caches

    monkeypatch.setenv("APP_URL", "https://127.0.0.1:8443/some/path")
    _reset_caches()
    assert register().domain_name == "127.0.0.1"
    assert fake.calls("POST", "/v1/payment_method_domains")[0].params["domain_name"] == "127.0.0.1"


def test_without_stripe_keys_nothing_is_registered(configured_app: str) -> None:
    with session_scope() as db, pytest.raises(ValidationFailed) as refused:
        wallet_domains.register(db)
    assert refused.value.code == "stripe_not_configured"
    assert rows() == []
    view = wallet_domains.view()
    assert not view.stripe and not view.registered


def test_stripe_unreachable_is_a_clear_error_and_writes_nothing(fake: FakeStripe) -> None:
    fake.fail_next(2, 500)
    with session_scope() as db, pytest.raises(Unavailable) as failed:
        wallet_domains.register(db)
    assert failed.value.status == 503
    assert rows() == []
    fake.stop()
    with session_scope() as db, pytest.raises(Unavailable):
        wallet_domains.register(db)
    assert rows() == []


def test_the_admin_cli_registers_and_shows_the_status(
    fake: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.__main__ import main

    assert main(["wallet-domain", "status"]) == 0
    assert json.loads(capsys.readouterr().out) == {"domain": "localhost", "registered": False}
    assert main(["wallet-domain", "register"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["registered"] and shown["domain"] == "localhost"
    assert shown["applePay"] == {"status": "active", "error": None}
    assert main(["wallet-domain", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == shown["id"]
    assert len(fake.calls("POST", "/v1/payment_method_domains")) == 1


def test_only_owners_and_admins_register_from_the_portal(fake: FakeStripe) -> None:
    from backend.services.identity import accounts
    from backend.services.identity.sessions import SessionContext
    from backend.services.payments import processor_pages

    with session_scope() as db:
        merchant = accounts.create_merchant(
            db, email="owner@wallets.test", password="a long passphrase 1", name="Shop"
        )
        merchant_id, user_id = merchant.merchant.id, merchant.user.id

    def ctx(role: str) -> SessionContext:
        return SessionContext(
            session_id="ses_x",
            user_id=user_id,
            email="owner@wallets.test",
            merchant_id=merchant_id,
            merchant_name="Shop",
            role=role,
            livemode=False,
            email_verified=True,
        )

    with pytest.raises(PermissionDenied):
        processor_pages.register_wallet_domain(ctx("developer"))
    assert fake.calls("POST") == [] and rows() == []
    assert not processor_pages.wallets(ctx("support")).registered
    processor_pages.register_wallet_domain(ctx("admin"), ip_address="127.0.0.1")
    assert processor_pages.wallets(ctx("analyst")).registered
    processor_pages.register_wallet_domain(ctx("owner"), check_only=True)
    with session_scope(readonly=True) as db:
        logged = db.exec(select(AuditLog).where(AuditLog.merchant_id == merchant_id)).all()
    actions = [r.action for r in logged if r.object_type == "payment_method_domain"]
    assert sorted(actions) == ["payment_method_domain.checked", "payment_method_domain.registered"]
    registered = next(r for r in logged if r.action == "payment_method_domain.registered")
    assert registered.actor_id == user_id and registered.ip_address == "127.0.0.1"
    assert registered.details == {
        "domain": "localhost",
        "applePay": "active",
        "googlePay": "active",
    }


# -- Apple's domain-association file -----------------------------------------------------------


def site(monkeypatch: pytest.MonkeyPatch, association: str | None) -> TestClient:
    from backend.api import create_app
    from tests.conftest import _reset_caches

    if association is None:
        monkeypatch.delenv("APPLE_PAY_DOMAIN_ASSOCIATION", raising=False)
    else:
        monkeypatch.setenv("APPLE_PAY_DOMAIN_ASSOCIATION", association)
    _reset_caches()
    return TestClient(create_app())


def test_the_association_file_is_served_from_the_site_root(
    configured_app: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    content = b"7B2270737069223A2236314130" * 40 + b"\n"
    path = tmp_path / "apple-developer-merchantid-domain-association"
    path.write_bytes(content)
    response = site(monkeypatch, str(path)).get(ASSOCIATION, follow_redirects=False)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].startswith("text/plain")
    assert wallet_domains.view().association_file


@pytest.mark.parametrize("configured", [None, "", "missing-file", "empty-file"])
def test_without_a_usable_file_the_answer_is_a_plain_404(
    configured_app: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured: str | None
) -> None:
    if configured == "missing-file":
        configured = str(tmp_path / "nothing-here")
    elif configured == "empty-file":
        (tmp_path / "empty").write_bytes(b"  \n")
        configured = str(tmp_path / "empty")
    response = site(monkeypatch, configured).get(ASSOCIATION, follow_redirects=False)
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"].startswith("text/plain")
    assert not wallet_domains.view().association_file
