"""The payout bank account: the real plaid SDK against a local Plaid fake, and the sandbox twin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from backend.core import crypto
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.core.ids import new_id
from backend.integrations import bank_link
from backend.models import AuditLog, BankAccount, OutboundEmail
from backend.models.enums import Role
from backend.services.identity import accounts, sessions
from backend.services.identity.step_up import StepUpRequired, TwoFactorSetupRequired
from backend.services.merchant import bank_accounts
from tests.fakes.plaid_api import FakePlaid
from tests.integration.identity_support import PASSWORD, fresh, member

PLAID_ENV = ("PLAID_CLIENT_ID", "PLAID_SECRET", "PLAID_HOST")


def _reset() -> None:
    get_settings.cache_clear()
    bank_link._api.cache_clear()


@pytest.fixture
def plaid_api(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlaid]:
    with FakePlaid() as fake:
        monkeypatch.setenv("PLAID_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("PLAID_SECRET", fake.secret)
        monkeypatch.setenv("PLAID_HOST", fake.url)
        _reset()
        yield fake
    _reset()


@pytest.fixture
def sandbox(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PLAID_ENV:
        monkeypatch.delenv(name, raising=False)
    _reset()
    yield
    _reset()


@pytest.fixture
def merchant_id(configured_app: str) -> str:
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=f"owner-{new_id('m')}@shop.test", password=PASSWORD
        )
        return created.merchant.id


@pytest.fixture
def owner(merchant_id: str) -> sessions.SessionContext:
    ctx = member(merchant_id, Role.OWNER)
    fresh(ctx)
    return ctx


def connect(ctx: sessions.SessionContext, public_token: str, account_id: str):  # type: ignore[no-untyped-def]
    with session_scope() as db:
        change = bank_accounts.connect(
            db, ctx, public_token=public_token, account_id=account_id, ip_address="203.0.113.9"
        )
    bank_accounts.after_commit(change)
    return change


def rows(merchant_id: str) -> list[BankAccount]:
    with session_scope(readonly=True) as db:
        query = select(BankAccount).where(BankAccount.merchant_id == merchant_id)
        return list(db.exec(query.order_by(col(BankAccount.created_at))).all())


def current(merchant_id: str) -> BankAccount | None:
    with session_scope(readonly=True) as db:
        return bank_accounts.current(db, merchant_id)


def test_plaid_verifies_the_chosen_account_and_keeps_its_number_encrypted(
    plaid_api: FakePlaid, owner: sessions.SessionContext
):
    assert bank_link.provider() == "plaid"
    assert bank_accounts.link_token(owner).startswith("link-sandbox-")
    path, body = plaid_api.requests[-1]
    assert path == "/link/token/create" and body["products"] == ["auth"]
    assert body["account_filters"]["depository"]["account_subtypes"] == ["checking", "savings"]
    assert plaid_api.link_users == [owner.user_id]

    token = plaid_api.public_token()
    change = connect(owner, token, plaid_api.account_id(token, "checking"))
    account = current(owner.merchant_id)
    assert account is not None and change.account is not None and account.id == change.account.id
    assert (account.provider, account.institution_name) == ("plaid", "First Platypus Bank")
    assert (account.account_name, account.mask, account.subtype) == (
        "Plaid Checking",
        "0000",
        "checking",
    )
    assert account.routing_number == "011401533"
    assert "1111222233330000" not in account.account_number_encrypted
    assert crypto.decrypt(account.account_number_encrypted) == "1111222233330000"
    assert account.access_token_encrypted and "access-" not in account.access_token_encrypted
    assert account.verified_by == owner.user_id

    with session_scope(readonly=True) as db:
        audit = db.exec(select(AuditLog).where(AuditLog.object_id == account.id)).one()
        notices = db.exec(
            select(OutboundEmail).where(
                OutboundEmail.merchant_id == owner.merchant_id,
                OutboundEmail.template == "bank_account_changed",
            )
        ).all()
    assert audit.action == "bank_account.verified" and audit.ip_address == "203.0.113.9"
    assert audit.details == {"bank": "First Platypus Bank", "account": "checking ••0000"}
    # Both owners hear of it (the one who signed up and the one who changed it).
    assert {n.to_email for n in notices} >= {owner.email}
    assert all("••0000" in n.text_body and "1111222233330000" not in n.text_body for n in notices)


def test_replacing_the_account_gives_up_the_old_item(
    plaid_api: FakePlaid, owner: sessions.SessionContext
):
    first = plaid_api.public_token()
    connect(owner, first, plaid_api.account_id(first, "checking"))
    old = current(owner.merchant_id)
    assert old is not None and old.access_token_encrypted
    old_token = crypto.decrypt(old.access_token_encrypted)

    second = plaid_api.public_token("ins_109509")
    connect(owner, second, plaid_api.account_id(second, "savings"))
    new = current(owner.merchant_id)
    assert new is not None and new.id != old.id
    assert (new.institution_name, new.subtype, new.mask) == (
        "First Gingham Credit Union",
        "savings",
        "1111",
    )
    history = rows(owner.merchant_id)
    assert [r.id for r in history] == [old.id, new.id]
    assert history[0].removed_at is not None and history[0].access_token_encrypted is None
    assert plaid_api.removed == [old_token]


def test_bad_choices_and_tokens_change_nothing(
    plaid_api: FakePlaid, owner: sessions.SessionContext
):
    token = plaid_api.public_token()
    with pytest.raises(ValidationFailed, match="checking or savings"):
        connect(owner, token, plaid_api.account_id(token, "credit card"))
    assert rows(owner.merchant_id) == []
    assert len(plaid_api.removed) == 1  # the unused item is given up at once

    token = plaid_api.public_token()
    checking = plaid_api.account_id(token, "checking")
    connect(owner, token, checking)
    before = rows(owner.merchant_id)
    # Link's public token works once: replaying it is refused by Plaid.
    with pytest.raises(ValidationFailed, match="already used"):
        connect(owner, token, checking)
    with pytest.raises(ValidationFailed):
        connect(owner, "public-sandbox-forged", "acc")
    plaid_api.fail_next(1, 500)
    token = plaid_api.public_token()
    with pytest.raises(bank_link.BankUnavailable):
        connect(owner, token, "whatever")
    assert [(r.id, r.removed_at) for r in rows(owner.merchant_id)] == [
        (r.id, r.removed_at) for r in before
    ]


def test_only_an_owner_with_a_fresh_second_factor_changes_it(sandbox: None, merchant_id: str):
    token = bank_link.sandbox_public_token("ins_109508")
    account_id = bank_link.sandbox_account_id("ins_109508", "checking")
    admin = member(merchant_id, Role.ADMIN)
    fresh(admin)
    with pytest.raises(PermissionDenied, match="payout bank account"):
        connect(admin, token, account_id)
    stale = member(merchant_id, Role.OWNER)
    with pytest.raises(StepUpRequired):
        connect(stale, token, account_id)
    with pytest.raises(TwoFactorSetupRequired):
        connect(member(merchant_id, Role.OWNER, two_factor=False), token, account_id)
    with pytest.raises(StepUpRequired), session_scope() as db:
        bank_accounts.remove(db, stale)
    assert rows(merchant_id) == []


def test_the_sandbox_twin_connects_offline_and_refuses_replays(
    sandbox: None, owner: sessions.SessionContext, merchant_id: str
):
    assert bank_link.provider() == "sandbox"
    token = bank_link.sandbox_public_token("ins_109510")
    connect(owner, token, bank_link.sandbox_account_id("ins_109510", "checking"))
    account = current(merchant_id)
    assert account is not None and account.provider == "sandbox"
    assert account.institution_name == "Tattersall Federal Credit Union"
    assert crypto.decrypt(account.account_number_encrypted) == "1111222233330000"

    with pytest.raises(Conflict, match="already used"):
        connect(owner, token, bank_link.sandbox_account_id("ins_109510", "checking"))
    for forged in ("public-sandbox-ins_1-" + "0" * 32, "access-" + token[7:], ""):
        with pytest.raises(ValidationFailed):
            connect(owner, forged, "ins_1-checking")
    with pytest.raises(ValidationFailed, match="sandbox banks"):
        bank_link.sandbox_public_token("ins_999")
    still = current(merchant_id)
    assert still is not None and still.id == account.id and len(rows(merchant_id)) == 1


def test_removing_it_and_other_merchants(
    sandbox: None, owner: sessions.SessionContext, merchant_id: str
):
    other = member(_other_merchant(), Role.OWNER)
    fresh(other)
    token = bank_link.sandbox_public_token("ins_109508")
    connect(owner, token, bank_link.sandbox_account_id("ins_109508", "savings"))
    assert current(other.merchant_id) is None
    with pytest.raises(NotFound), session_scope() as db:
        bank_accounts.remove(db, other)

    with session_scope() as db:
        change = bank_accounts.remove(db, owner)
    assert change.account is None and change.email_ids
    assert current(merchant_id) is None
    assert rows(merchant_id)[0].removed_at is not None
    with session_scope(readonly=True) as db:
        actions = db.exec(select(AuditLog.action).where(AuditLog.merchant_id == merchant_id)).all()
    assert {"bank_account.verified", "bank_account.removed"} <= set(actions)
    with pytest.raises(NotFound), session_scope() as db:
        bank_accounts.remove(db, owner)


def _other_merchant() -> str:
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=f"other-{new_id('m')}@shop.test", password=PASSWORD
        )
        return created.merchant.id


def test_link_without_account_selection_is_clear_only_for_one_account():
    account = bank_link.sandbox_accounts("ins_109508")[0]
    single = bank_link.LinkedItem("plaid", "item-1", "access-1", "Bank", [account])
    assert bank_accounts._chosen(single, "") == account
    both = bank_link.LinkedItem("plaid", "item-1", "access-1", "Bank", [account, account])
    assert bank_accounts._chosen(both, "") is None
    assert bank_accounts._chosen(both, account.account_id) == account
