"""Revealing a test API key again: test secrets are kept encrypted, live secrets never."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, PermissionDenied
from backend.core.ids import new_id
from backend.models import ApiKey, AuditLog
from backend.models.enums import Role
from backend.services.identity import accounts, api_keys
from backend.services.merchant import developers
from tests.integration.identity_support import fresh, member

PASSWORD = "correct horse battery"


@pytest.fixture
def merchant_id(configured_app: str) -> str:
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=f"owner-{new_id('m')}@shop.test", password=PASSWORD
        )
        return created.merchant.id


def _audit_rows(key_id: str) -> list[AuditLog]:
    with session_scope(readonly=True) as db:
        return list(
            db.exec(
                select(AuditLog).where(
                    AuditLog.object_id == key_id, AuditLog.action == "api_key.revealed"
                )
            ).all()
        )


def test_a_developer_reveals_a_test_key_and_it_is_audited(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    with session_scope() as db:
        issued = developers.create_api_key(db, dev, "Laptop")
    with session_scope() as db:
        stored = db.get(ApiKey, issued.api_key.id)
        assert stored is not None and stored.secret_encrypted
        assert issued.secret not in stored.secret_encrypted  # encrypted, not in clear

    with session_scope() as db:
        secret = developers.reveal_api_key(db, dev, issued.api_key.id)
    assert secret == issued.secret
    with session_scope() as db:
        assert api_keys.authenticate(db, secret).api_key_id == issued.api_key.id
    [row] = _audit_rows(issued.api_key.id)
    assert row.actor_id == dev.user_id and row.merchant_id == merchant_id
    assert row.livemode is False


def test_live_keys_are_digests_only_and_never_revealed(merchant_id: str):
    owner = replace(member(merchant_id, Role.OWNER), livemode=True)
    fresh(owner)
    with session_scope() as db:
        issued = developers.create_api_key(db, owner, "Live server")
    with session_scope() as db:
        stored = db.get(ApiKey, issued.api_key.id)
        assert stored is not None and stored.secret_encrypted is None
    with pytest.raises(Conflict, match="Live secrets are shown once"), session_scope() as db:
        developers.reveal_api_key(db, owner, issued.api_key.id)
    assert _audit_rows(issued.api_key.id) == []


def test_a_key_from_before_encryption_says_why_it_cannot_be_shown(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    with session_scope() as db:
        issued = developers.create_api_key(db, dev, "Old")
    with session_scope() as db:
        stored = db.get(ApiKey, issued.api_key.id)
        assert stored is not None
        stored.secret_encrypted = None  # as every key created before migration 0017
        db.add(stored)
    with pytest.raises(Conflict, match="created before"), session_scope() as db:
        developers.reveal_api_key(db, dev, issued.api_key.id)


def test_another_merchants_key_is_not_found(merchant_id: str):
    with session_scope() as db:
        other = accounts.create_merchant(
            db, email=f"other-{new_id('m')}@shop.test", password=PASSWORD
        )
        other_key = db.exec(select(ApiKey).where(ApiKey.merchant_id == other.merchant.id)).one()
    dev = member(merchant_id, Role.DEVELOPER)
    with pytest.raises(NotFound), session_scope() as db:
        developers.reveal_api_key(db, dev, other_key.id)
    assert _audit_rows(other_key.id) == []


def test_roles_without_the_key_permission_are_refused(merchant_id: str):
    with session_scope(readonly=True) as db:
        key = db.exec(select(ApiKey).where(ApiKey.merchant_id == merchant_id)).one()
    for role in (Role.ANALYST, Role.SUPPORT):
        someone = member(merchant_id, role)
        with pytest.raises(PermissionDenied), session_scope() as db:
            developers.reveal_api_key(db, someone, key.id)
    assert _audit_rows(key.id) == []


def test_a_revoked_key_is_not_revealed(merchant_id: str):
    dev = member(merchant_id, Role.DEVELOPER)
    with session_scope() as db:
        issued = developers.create_api_key(db, dev, "Gone")
    with session_scope() as db:
        developers.revoke_api_key(db, dev, issued.api_key.id)
    with pytest.raises(Conflict, match="no longer works"), session_scope() as db:
        developers.reveal_api_key(db, dev, issued.api_key.id)
