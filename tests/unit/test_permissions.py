"""The permission matrix: each role's reach, and the graded refund permission."""

from __future__ import annotations

import pytest

from backend.models import Merchant
from backend.models.enums import Role
from backend.services import permissions
from backend.services.errors import PermissionDenied
from backend.services.permissions import Permission


def _merchant(**overrides: object) -> Merchant:
    fields = {"id": "mer_1", "name": "Shop", "support_email": "s@example.com"} | overrides
    return Merchant(**fields)


def test_every_permission_is_described_and_owner_holds_all_but_the_limited_refund() -> None:
    assert set(permissions.DESCRIPTIONS) == set(Permission)
    assert permissions.MATRIX[Role.OWNER] == frozenset(Permission) - {Permission.REFUND_LIMITED}


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (Role.ADMIN, Permission.MANAGE_TEAM, Permission.TRANSFER_OWNERSHIP),
        (Role.ADMIN, Permission.REFUND, Permission.MANAGE_BANK),
        (Role.DEVELOPER, Permission.MANAGE_API_KEYS, Permission.REFUND),
        (Role.DEVELOPER, Permission.MANAGE_WEBHOOKS, Permission.EXPORT_DATA),
        (Role.ANALYST, Permission.EXPORT_DATA, Permission.CAPTURE_VOID),
        (Role.ANALYST, Permission.VIEW_DATA, Permission.VIEW_DEVELOPERS),
        (Role.SUPPORT, Permission.CAPTURE_VOID, Permission.MANAGE_SETTINGS),
        (Role.SUPPORT, Permission.MANAGE_DISPUTES, Permission.REFUND),
    ],
)
def test_roles_reach(role: Role, allowed: Permission, denied: Permission) -> None:
    permissions.require(role, allowed)
    assert not permissions.can(role, denied)
    with pytest.raises(PermissionDenied, match=f"Your role \\({role}\\) cannot"):
        permissions.require(role, denied)


def test_unknown_role_can_do_nothing() -> None:
    assert not any(permissions.can("superuser", p) for p in Permission)
    assert not any(permissions.can("", p) for p in Permission)


def test_support_refunds_up_to_the_limit_in_the_default_currency_only() -> None:
    shop = _merchant(support_refund_limit=10_000, default_currency="USD")
    assert permissions.can_refund(Role.SUPPORT, shop, 10_000, "usd")
    assert not permissions.can_refund(Role.SUPPORT, shop, 10_001, "USD")
    assert not permissions.can_refund(Role.SUPPORT, shop, 100, "EUR")
    with pytest.raises(PermissionDenied, match=r"up to \$100\.00 in USD"):
        permissions.require_refund(Role.SUPPORT, shop, 10_001, "USD")
    with pytest.raises(PermissionDenied, match="analyst"):
        permissions.require_refund(Role.ANALYST, shop, 1, "USD")
    permissions.require_refund(Role.ADMIN, shop, 10**9, "JPY")


def test_step_up_above_the_threshold_or_in_another_currency() -> None:
    shop = _merchant(step_up_refund_threshold=50_000, default_currency="USD")
    assert not permissions.refund_needs_step_up(shop, 50_000, "USD")
    assert permissions.refund_needs_step_up(shop, 50_001, "USD")
    assert permissions.refund_needs_step_up(shop, 1, "GBP")


def test_step_up_window_is_five_minutes() -> None:
    from datetime import UTC, datetime, timedelta

    from backend.models import UserSession
    from backend.services import step_up

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    session = UserSession(
        id="ses_1", token_digest="x", user_id="u", merchant_id="m", expires_at=now
    )
    assert not step_up.is_fresh(session, now)
    session.step_up_at = now - timedelta(minutes=4, seconds=59)
    assert step_up.is_fresh(session, now)
    session.step_up_at = now - timedelta(minutes=5)
    assert not step_up.is_fresh(session, now)


def test_readme_shows_the_matrix_as_written() -> None:
    """The README's table is the matrix: a change to one without the other fails here."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    roles = list(Role)
    for permission, description in permissions.DESCRIPTIONS.items():
        marks = " | ".join("✓" if permission in permissions.MATRIX[r] else "—" for r in roles)
        assert f"| {description} | {marks} |" in readme, description
