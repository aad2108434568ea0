"""The portal's Developers, API keys page, one unit of work per action: the keys of the
session's merchant and mode, create, roll, reveal (test keys) and revoke.

Each function opens its own unit of work around the Developers actions in
backend/services/merchant/developers.py, which check the permission matrix and, where the
action is sensitive, the step-up window (StepUpRequired reaches the page, which asks for a
fresh code and runs the action again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.core.db import session_scope
from backend.models import Merchant
from backend.services import labels
from backend.services.identity import api_keys, permissions
from backend.services.identity.permissions import Permission
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import developers


@dataclass(frozen=True)
class KeyRow:
    id: str
    name: str
    masked: str  # "pk_test_…1a2b"
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    status: str  # active, expiring, expired, revoked
    status_label: str  # the label of status (the page words "expiring" with its time)
    revealable: bool


@dataclass(frozen=True)
class KeyList:
    keys: list[KeyRow]
    timezone: str  # the merchant's, for the times the page shows


def may_manage(ctx: SessionContext) -> bool:
    """Whether the page offers create, roll, reveal and revoke (every action checks again)."""
    return permissions.can(ctx.role, Permission.MANAGE_API_KEYS)


def read_keys(ctx: SessionContext) -> KeyList:
    """The keys of the session's merchant and mode (PermissionDenied without VIEW_DEVELOPERS)."""
    with session_scope(readonly=True) as db:
        keys = developers.list_api_keys(db, ctx)
        rows = []
        for key in keys:
            status = api_keys.status(key)
            rows.append(
                KeyRow(
                    id=key.id,
                    name=key.name,
                    masked=f"{key.display_prefix}…{key.last4}",
                    created_at=key.created_at,
                    last_used_at=key.last_used_at,
                    expires_at=key.expires_at,
                    status=status,
                    status_label=labels.status(status),
                    revealable=api_keys.revealable(key),
                )
            )
        merchant = db.get(Merchant, ctx.merchant_id)
    return KeyList(rows, merchant.timezone if merchant else "UTC")


@dataclass(frozen=True)
class Secret:
    """A key's secret, shown once after create or roll."""

    name: str
    secret: str


def create(ctx: SessionContext, name: str) -> Secret:
    """A new key (a live key takes a fresh code first)."""
    with session_scope() as db:
        issued = developers.create_api_key(db, ctx, name)
    return Secret(issued.api_key.name, issued.secret)


def roll(ctx: SessionContext, key_id: str, grace: str) -> Secret:
    """A new secret for the key (a fresh code first); the old one works for the grace period."""
    with session_scope() as db:
        issued = developers.roll_api_key(db, ctx, key_id, grace)
    return Secret(issued.api_key.name, issued.secret)


def reveal(ctx: SessionContext, key_id: str) -> str:
    """A test key's secret, shown again (audited)."""
    with session_scope() as db:
        return developers.reveal_api_key(db, ctx, key_id)


def revoke(ctx: SessionContext, key_id: str) -> None:
    with session_scope() as db:
        developers.revoke_api_key(db, ctx, key_id)
