"""The empty dashboard's copy-paste charge: the exact command text, run with curl, charges."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import AuditLog
from backend.models.enums import Role
from backend.services.identity import signup
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import quickstart
from tests.integration.identity_support import PASSWORD, context, member, unique_email
from tests.integration.live_server import serve


@pytest.fixture
def base_url(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from backend.api import create_app

    with serve(create_app()) as base:
        # The command is built for APP_URL: point it at the running API.
        monkeypatch.setenv("APP_URL", base)
        get_settings.cache_clear()
        yield base
    get_settings.cache_clear()


def _new_owner() -> SessionContext:
    with session_scope() as db:
        done = signup.sign_up(
            db, email=unique_email(), password=PASSWORD, business_name="Fresh Shop"
        )
    return context(done.session_token)


def test_the_dashboard_command_charges_as_shown(base_url: str):
    owner = _new_owner()
    with session_scope() as db:
        shown = quickstart.for_dashboard(db, owner)
    assert shown is not None and shown.command.startswith(f"curl {base_url}/api/payments/charge")
    assert "sk_test_" in shown.command and "pm_card_visa" in shown.command

    # Exactly what a merchant pastes into a shell.
    ran = subprocess.run(
        ["bash", "-c", shown.command + " -s -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, code = ran.stdout.rpartition("\n")
    assert code == "201", ran.stdout
    payment = json.loads(body)["payment"]
    assert payment["status"] == "succeeded" and payment["totalAmount"] == 1000

    # The card gives way to the payments once there is one; the reveal was audited.
    with session_scope() as db:
        assert quickstart.for_dashboard(db, owner) is None
        actions = db.exec(
            select(AuditLog.action).where(AuditLog.merchant_id == owner.merchant_id)
        ).all()
    assert "api_key.revealed" in actions


def test_not_shown_in_live_mode_or_to_members_without_keys(configured_app: str):
    owner = _new_owner()
    from dataclasses import replace

    analyst = member(owner.merchant_id, Role.ANALYST)
    with session_scope() as db:
        assert quickstart.for_dashboard(db, replace(owner, livemode=True)) is None
        assert quickstart.for_dashboard(db, analyst) is None


def test_without_a_revealable_key_it_points_to_the_keys_page(configured_app: str):
    from backend.models import ApiKey

    owner = _new_owner()
    with session_scope() as db:
        for key in db.exec(select(ApiKey).where(ApiKey.merchant_id == owner.merchant_id)):
            key.secret_encrypted = None  # keys made before test secrets were kept
            db.add(key)
    with session_scope() as db:
        shown = quickstart.for_dashboard(db, owner)
    assert shown is not None and shown.command == ""
