"""Who may do what: the written permission matrix of the team roles.

Every portal event handler that reads or changes merchant data asks `require(role, permission)`
on the server; hiding a button is only a courtesy. The matrix is also rendered on the Team page
and in the README, from `MATRIX` and `DESCRIPTIONS`, so the words and the rules cannot drift.

Refunds are the one graded permission: owners and admins refund any amount; support refunds up
to the merchant's `support_refund_limit` (minor units of the merchant's default currency), and
refunds in any other currency are beyond a limit we cannot compare, so they need an admin.
The limit, like the step-up threshold, applies to running totals (`RefundTotals`): what the
payment will have had refunded and what the member will have refunded that day, so that slicing
a refund gets round neither (backend.services.payments.refund_limits reads and locks those totals).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.core.currency import format_money
from backend.core.errors import PermissionDenied
from backend.models import Merchant
from backend.models.enums import Role
from backend.services import labels


class Permission(StrEnum):
    VIEW_DATA = "view_data"  # dashboard, payments, customers, disputes (read only)
    EXPORT_DATA = "export_data"  # CSV exports and monthly PDF statements
    CAPTURE_VOID = "capture_void"
    REFUND = "refund"  # any amount; support has REFUND_LIMITED instead
    REFUND_LIMITED = "refund_limited"  # up to the merchant's support refund limit
    MANAGE_DISPUTES = "manage_disputes"  # upload evidence, accept
    REVIEW_PAYMENTS = "review_payments"  # close the review of a flagged payment
    MANAGE_PAYMENT_LINKS = "manage_payment_links"
    MANAGE_CUSTOMERS = "manage_customers"  # create, edit, delete; remove saved cards
    MANAGE_CATALOGUE = "manage_catalogue"  # products and prices: create, archive
    # subscriptions (cancel, pause, resume, quantity) and invoices (void, uncollectible, retry)
    MANAGE_BILLING = "manage_billing"
    VIEW_DEVELOPERS = "view_developers"  # API key list (never secrets), webhook delivery log
    MANAGE_API_KEYS = "manage_api_keys"  # create, reveal, roll, revoke
    MANAGE_WEBHOOKS = "manage_webhooks"  # endpoints, secrets, redelivery
    # business profile, branding, limits, risk rules and blocklist, processors and routing
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_BANK = "manage_bank"  # payout bank account
    MANAGE_PAYOUTS = "manage_payouts"  # pay out the balance now, the payout schedule
    MANAGE_TEAM = "manage_team"  # invite, change roles (never to owner), remove
    VIEW_AUDIT_LOG = "view_audit_log"
    RECONCILE = "reconcile"  # run reconciliation, resolve its exceptions
    TRANSFER_OWNERSHIP = "transfer_ownership"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.VIEW_DATA: "See the dashboard, payments, customers and disputes",
    Permission.EXPORT_DATA: "Export CSV and download monthly statements",
    Permission.CAPTURE_VOID: "Capture and void authorized payments",
    Permission.REFUND: "Refund any amount",
    Permission.REFUND_LIMITED: "Refund up to the support refund limit",
    Permission.MANAGE_DISPUTES: "Answer disputes with evidence",
    Permission.REVIEW_PAYMENTS: "Approve flagged payments or mark them fraudulent",
    Permission.MANAGE_PAYMENT_LINKS: "Create and edit payment links",
    Permission.MANAGE_CUSTOMERS: "Create, edit and delete customers and their saved cards",
    Permission.MANAGE_CATALOGUE: "Create and archive products and prices",
    Permission.MANAGE_BILLING: "Change subscriptions and invoices: cancel, pause, void, retry",
    Permission.VIEW_DEVELOPERS: "See API keys (never their secrets) and webhook deliveries",
    Permission.MANAGE_API_KEYS: "Create, reveal, roll and revoke API keys",
    Permission.MANAGE_WEBHOOKS: "Manage webhook endpoints and redeliver events",
    Permission.MANAGE_SETTINGS: (
        "Change settings: profile, branding, limits, risk rules, processors"
    ),
    Permission.MANAGE_BANK: "Change the payout bank account",
    Permission.MANAGE_PAYOUTS: "Pay out the balance and set the payout schedule",
    Permission.MANAGE_TEAM: "Invite, re-role and remove members",
    Permission.VIEW_AUDIT_LOG: "Read and export the audit log",
    Permission.RECONCILE: "Run reconciliation and resolve its exceptions",
    Permission.TRANSFER_OWNERSHIP: "Hand the account to another member",
}

_ALL = frozenset(Permission)
MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _ALL - {Permission.REFUND_LIMITED},
    Role.ADMIN: _ALL
    - {
        Permission.REFUND_LIMITED,
        Permission.MANAGE_BANK,
        Permission.MANAGE_PAYOUTS,
        Permission.TRANSFER_OWNERSHIP,
    },
    Role.DEVELOPER: frozenset(
        {
            Permission.VIEW_DATA,
            Permission.VIEW_DEVELOPERS,
            Permission.MANAGE_API_KEYS,
            Permission.MANAGE_WEBHOOKS,
        }
    ),
    Role.ANALYST: frozenset({Permission.VIEW_DATA, Permission.EXPORT_DATA}),
    Role.SUPPORT: frozenset(
        {
            Permission.VIEW_DATA,
            Permission.CAPTURE_VOID,
            Permission.REFUND_LIMITED,
            Permission.MANAGE_DISPUTES,
            Permission.REVIEW_PAYMENTS,
            Permission.MANAGE_CUSTOMERS,
        }
    ),
}


def _role(role: str | Role) -> Role | None:
    try:
        return Role(role)
    except ValueError:
        return None


def can(role: str | Role, permission: Permission) -> bool:
    known = _role(role)
    return known is not None and permission in MATRIX[known]


def require(role: str | Role, permission: Permission) -> None:
    if not can(role, permission):
        raise PermissionDenied(
            f"Your role ({labels.role(role) if role else 'none'}) cannot "
            f"{DESCRIPTIONS[permission][0].lower()}"
            f"{DESCRIPTIONS[permission][1:]}. Ask an owner or admin."
        )


@dataclass(frozen=True)
class RefundTotals:
    """A refund, with what was refunded before it on the same payment (by anyone) and by the
    same member that day (in the refund's currency)."""

    amount: int
    currency: str
    on_payment: int = 0
    by_member_today: int = 0

    @property
    def largest_total(self) -> int:
        """The larger of the two totals once this refund is added."""
        return self.amount + max(self.on_payment, self.by_member_today)


def can_refund(role: str | Role, merchant: Merchant, refund: RefundTotals) -> bool:
    if can(role, Permission.REFUND):
        return True
    return (
        can(role, Permission.REFUND_LIMITED)
        and refund.currency.upper() == merchant.default_currency
        and refund.largest_total <= merchant.support_refund_limit
    )


def refund_allowance(role: str | Role, merchant: Merchant, refund: RefundTotals) -> int | None:
    """How much more this role may refund on top of the totals (refund.amount is ignored):
    None when no limit applies, 0 when it may refund nothing (the rule of `can_refund`)."""
    if can(role, Permission.REFUND):
        return None
    if not can(role, Permission.REFUND_LIMITED):
        return 0
    if refund.currency.upper() != merchant.default_currency:
        return 0
    used = max(refund.on_payment, refund.by_member_today)
    return max(0, merchant.support_refund_limit - used)


def require_refund(role: str | Role, merchant: Merchant, refund: RefundTotals) -> None:
    """PermissionDenied, saying the limit and what is left of it, unless role may refund."""
    if can_refund(role, merchant, refund):
        return
    if not can(role, Permission.REFUND_LIMITED):
        require(role, Permission.REFUND)
    currency, limit = merchant.default_currency, merchant.support_refund_limit
    if refund.currency.upper() != currency:
        raise PermissionDenied(
            f"Support can refund in {currency} only. Ask an owner or admin for this refund.",
            param="amountCents",
        )
    left_on_payment = max(0, limit - refund.on_payment)
    left_today = max(0, limit - refund.by_member_today)
    if left_on_payment <= left_today:
        left = f"{format_money(left_on_payment, currency)} of it is left on this payment"
    else:
        left = f"you have {format_money(left_today, currency)} of it left today"
    raise PermissionDenied(
        f"Support can refund up to {format_money(limit, currency)} per payment and per day, "
        f"counting earlier refunds; {left}. Ask an owner or admin for more.",
        param="amountCents",
    )


def refund_needs_step_up(merchant: Merchant, refund: RefundTotals) -> bool:
    """A fresh second-factor code is asked when either total passes the merchant's threshold,
    and for refunds in a currency other than the one the threshold is written in."""
    if refund.currency.upper() != merchant.default_currency:
        return True
    return refund.largest_total > merchant.step_up_refund_threshold
