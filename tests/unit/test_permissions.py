"""The permission matrix: each role's reach, and the graded refund permission."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.errors import PermissionDenied
from backend.models import Merchant
from backend.models.enums import Role
from backend.services import labels
from backend.services.identity import permissions
from backend.services.identity.permissions import Permission, RefundTotals


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
    with pytest.raises(PermissionDenied, match=f"Your role \\({labels.role(role)}\\) cannot"):
        permissions.require(role, denied)


def test_unknown_role_can_do_nothing() -> None:
    assert not any(permissions.can("superuser", p) for p in Permission)
    assert not any(permissions.can("", p) for p in Permission)


def test_support_refunds_up_to_the_limit_in_the_default_currency_only() -> None:
    shop = _merchant(support_refund_limit=10_000, default_currency="USD")
    assert permissions.can_refund(Role.SUPPORT, shop, RefundTotals(10_000, "usd"))
    assert not permissions.can_refund(Role.SUPPORT, shop, RefundTotals(10_001, "USD"))
    assert not permissions.can_refund(Role.SUPPORT, shop, RefundTotals(100, "EUR"))
    with pytest.raises(PermissionDenied, match=r"up to \$100\.00 per payment and per day"):
        permissions.require_refund(Role.SUPPORT, shop, RefundTotals(10_001, "USD"))
    with pytest.raises(PermissionDenied, match="in USD only"):
        permissions.require_refund(Role.SUPPORT, shop, RefundTotals(100, "EUR"))
    with pytest.raises(PermissionDenied, match="Analyst"):
        permissions.require_refund(Role.ANALYST, shop, RefundTotals(1, "USD"))
    permissions.require_refund(Role.ADMIN, shop, RefundTotals(10**9, "JPY", 10**9, 10**9))


def test_support_limit_counts_the_payment_and_the_day_and_says_what_is_left() -> None:
    shop = _merchant(support_refund_limit=10_000, default_currency="USD")
    assert permissions.can_refund(Role.SUPPORT, shop, RefundTotals(4_000, "USD", 6_000, 6_000))
    with pytest.raises(PermissionDenied, match=r"\$40\.00 of it is left on this payment"):
        permissions.require_refund(Role.SUPPORT, shop, RefundTotals(5_000, "USD", 6_000, 0))
    with pytest.raises(PermissionDenied, match=r"you have \$25\.00 of it left today"):
        permissions.require_refund(Role.SUPPORT, shop, RefundTotals(5_000, "USD", 0, 7_500))
    with pytest.raises(PermissionDenied, match=r"\$0\.00 of it is left on this payment"):
        permissions.require_refund(Role.SUPPORT, shop, RefundTotals(1, "USD", 12_000, 0))


def test_step_up_above_the_threshold_or_in_another_currency() -> None:
    shop = _merchant(step_up_refund_threshold=50_000, default_currency="USD")
    assert not permissions.refund_needs_step_up(shop, RefundTotals(50_000, "USD"))
    assert permissions.refund_needs_step_up(shop, RefundTotals(50_001, "USD"))
    assert permissions.refund_needs_step_up(shop, RefundTotals(1, "USD", on_payment=50_000))
    assert permissions.refund_needs_step_up(shop, RefundTotals(1, "USD", by_member_today=50_000))
    assert permissions.refund_needs_step_up(shop, RefundTotals(1, "GBP"))


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(1, 200_000),
    cuts=st.lists(st.integers(1, 199_999), max_size=10, unique=True),
    payments=st.lists(st.integers(0, 2), min_size=11, max_size=11),
    threshold=st.integers(0, 200_000),
    limit=st.integers(0, 200_000),
)
def test_a_sliced_refund_meets_the_same_step_up_and_limit_as_the_whole(
    total: int, cuts: list[int], payments: list[int], threshold: int, limit: int
) -> None:
    """A member refunds `total` in slices, spread over up to three payments on one day: some
    slice asks for a code exactly when the whole would, and support may make every slice
    exactly when it may make the whole."""
    shop = _merchant(
        step_up_refund_threshold=threshold, support_refund_limit=limit, default_currency="USD"
    )
    points = sorted(cut for cut in cuts if cut < total)
    slices = [b - a for a, b in zip([0, *points], [*points, total], strict=True)]
    on_payment = [0, 0, 0]
    today = 0
    needs_code, allowed = [], []
    for amount, payment in zip(slices, payments, strict=False):
        refund = RefundTotals(amount, "USD", on_payment[payment], today)
        needs_code.append(permissions.refund_needs_step_up(shop, refund))
        allowed.append(permissions.can_refund(Role.SUPPORT, shop, refund))
        on_payment[payment] += amount
        today += amount
    whole = RefundTotals(total, "USD")
    assert any(needs_code) == permissions.refund_needs_step_up(shop, whole)
    assert all(allowed) == permissions.can_refund(Role.SUPPORT, shop, whole)


def test_step_up_window_is_five_minutes() -> None:
    from datetime import UTC, datetime, timedelta

    from backend.models import UserSession
    from backend.services.identity import step_up

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
