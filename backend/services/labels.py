"""The one home of the words people read for the codes we store: statuses, roles, risk
decisions, event types, audit actions and actors.

Pages, e-mails and exports show `status(code)`, `role(code)`, `action(code)` and so on, never
the code itself. A code without a label still reads as words (`words`), but
tests/unit/test_labels.py fails until every code written in the code base has its own label.
"""

from __future__ import annotations

import re

# Payments, refunds, disputes, orders, payouts, webhook deliveries and endpoints, API keys,
# reviews: one word per state, whichever object is in it.
STATUSES: dict[str, str] = {
    # payments
    "requires_payment_method": "Awaiting payment",
    "requires_action": "Needs authentication",
    "processing": "Processing",
    "authorized": "Authorized",
    "succeeded": "Succeeded",
    "partially_refunded": "Partially refunded",
    "refunded": "Refunded",
    "voided": "Voided",
    "failed": "Failed",
    "disputed": "Disputed",
    # refunds, deliveries, payouts
    "pending": "Pending",
    "canceled": "Canceled",
    "retrying": "Retrying",
    "in_transit": "In transit",
    # A payout rail's (Plaid Transfer's) own transfer states
    "settled": "Settled",
    "funds_available": "Funds available",
    "returned": "Returned",
    "cancelled": "Canceled",
    "available": "Available",
    # disputes
    "needs_response": "Needs response",
    "under_review": "Under review",
    "won": "Won",
    "lost": "Lost",
    # orders, payment links, reconciliation exceptions
    "open": "Open",
    "resolved": "Resolved",
    "paid": "Paid",
    # merchants, endpoints, API keys, gateways
    "active": "Active",
    "suspended": "Suspended",
    "enabled": "Enabled",
    "disabled": "Disabled",
    "expiring": "Expiring",
    "expired": "Expired",
    "revoked": "Revoked",
    # inbound provider events
    "processed": "Processed",
    "ignored": "Ignored",
    "dead": "Gave up",
    # reviews of flagged payments
    "approved": "Approved",
    "fraudulent": "Fraudulent",
    # test clocks
    "ready": "Ready",
    "advancing": "Advancing",
    # capture methods
    "automatic": "Automatic",
    "manual": "Manual",
    # subscriptions
    "trialing": "Trialing",
    "past_due": "Past due",
    "unpaid": "Unpaid",
    "incomplete": "Incomplete",
    "incomplete_expired": "Expired unpaid",
    "paused": "Paused",
    # invoices
    "draft": "Draft",
    "uncollectible": "Uncollectible",
    "void": "Void",
}

ROLES: dict[str, str] = {
    "owner": "Owner",
    "admin": "Admin",
    "developer": "Developer",
    "analyst": "Analyst",
    "support": "Support",
}

RISK_DECISIONS: dict[str, str] = {
    "allow": "Allowed",
    "review": "Needs review",
    "block": "Blocked",
    "unreviewed": "Awaiting review",  # flagged, and nobody has closed the review yet
}

REFUND_REASONS: dict[str, str] = {
    "requested_by_customer": "Requested by customer",
    "duplicate": "Duplicate",
    "fraudulent": "Fraudulent",
    "expired_uncaptured_charge": "Authorization expired",
}

DISPUTE_REASONS: dict[str, str] = {
    "fraudulent": "Fraudulent",
    "duplicate": "Duplicate",
    "product_not_received": "Product not received",
    "product_unacceptable": "Product unacceptable",
    "subscription_canceled": "Subscription canceled",
    "credit_not_processed": "Credit not processed",
    "unrecognized": "Unrecognized",
    "general": "General",
}

CARD_BRANDS: dict[str, str] = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}

# Wallets that pay with a tokenised card (Stripe's card.wallet.type).
WALLETS: dict[str, str] = {
    "apple_pay": "Apple Pay",
    "google_pay": "Google Pay",
    "link": "Link",
    "samsung_pay": "Samsung Pay",
}

# The objects the audit log names.
OBJECT_TYPES: dict[str, str] = {
    "api_key": "API key",
    "billing_portal.session": "Billing portal link",
    "checkout.session": "Checkout session",
    "customer": "Customer",
    "gateway_config": "Processor",
    "ip_address": "IP address",
    "payment_method": "Saved card",
    "payment_method_domain": "Wallet domain",
    "payout_schedule": "Payout schedule",
    "price": "Price",
    "product": "Product",
    "reconciliation_exception": "Reconciliation exception",
    "test_clock": "Test clock",
    "webhook_endpoint": "Webhook endpoint",
    "webhook_delivery": "Webhook delivery",
}

GATEWAYS: dict[str, str] = {"sandbox": "Built-in sandbox", "stripe": "Stripe", "paypal": "PayPal"}

ACTOR_TYPES: dict[str, str] = {
    "user": "Team member",
    "api_key": "API key",
    "system": "PayPortal",
    "webhook": "Stripe",
}

# Events our outbound webhooks send, and the provider events we receive.
EVENT_TYPES: dict[str, str] = {
    "payment.created": "Payment created",
    "payment.authorized": "Payment authorized",
    "payment.requires_action": "Payment needs authentication",
    "payment.processing": "Bank payment processing",
    "payment.succeeded": "Payment succeeded",
    "payment.captured": "Payment captured",
    "payment.failed": "Payment failed",
    "payment.voided": "Payment voided",
    "payment.refunded": "Payment refunded",
    "refund.created": "Refund created",
    "refund.updated": "Refund updated",
    "refund.succeeded": "Refund succeeded",
    "refund.failed": "Refund failed",
    "refund.reversed": "Refund reversed",
    "dispute.created": "Dispute opened",
    "dispute.closed": "Dispute closed",
    "dispute.updated": "Dispute updated",
    "order.created": "Order created",
    "order.paid": "Order paid",
    "balance.available": "Funds available",
    "payout.created": "Payout created",
    "payout.updated": "Payout updated",
    "payout.paid": "Payout paid",
    "payout.failed": "Payout failed",
    "payout.canceled": "Payout canceled",
    "checkout.session.created": "Checkout opened",
    "checkout.session.completed": "Checkout completed",
    "checkout.session.expired": "Checkout expired",
    "customer.created": "Customer created",
    "customer.updated": "Customer updated",
    "customer.deleted": "Customer deleted",
    "payment_method.attached": "Card saved",
    "payment_method.detached": "Saved card removed",
    "customer.subscription.created": "Subscription started",
    "customer.subscription.updated": "Subscription changed",
    "customer.subscription.deleted": "Subscription ended",
    "customer.subscription.trial_will_end": "Trial ends in 3 days",
    "invoice.created": "Invoice created",
    "invoice.finalized": "Invoice finalized",
    "invoice.paid": "Invoice paid",
    "invoice.payment_failed": "Invoice payment failed",
    "invoice.payment_action_required": "Invoice payment needs authentication",
    "invoice.voided": "Invoice voided",
    "invoice.marked_uncollectible": "Invoice marked uncollectible",
    "webhook.test": "Test event",
    # Stripe's, received at /api/webhooks/stripe
    "charge.succeeded": "Stripe: charge succeeded",
    "charge.failed": "Stripe: charge failed",
    "charge.refunded": "Stripe: charge refunded",
    "charge.dispute.created": "Stripe: dispute opened",
    "charge.dispute.closed": "Stripe: dispute closed",
    "charge.dispute.updated": "Stripe: dispute updated",
    "charge.dispute.funds_withdrawn": "Stripe: disputed funds withdrawn",
    "charge.dispute.funds_reinstated": "Stripe: disputed funds reinstated",
    "payment_intent.created": "Stripe: payment intent created",
    "payment_intent.succeeded": "Stripe: payment intent succeeded",
    "payment_intent.payment_failed": "Stripe: payment intent failed",
    "payment_intent.processing": "Stripe: payment intent processing",
    "payment_intent.canceled": "Stripe: payment intent canceled",
}

# What the audit log records (besides the payment, refund and dispute events above).
AUDIT_ACTIONS: dict[str, str] = {
    "api_key.created": "API key created",
    "api_key.revealed": "API key revealed",
    "api_key.revoked": "API key revoked",
    "api_key.rolled": "API key rolled",
    "audit_log.exported": "Audit log exported",
    "bank_account.removed": "Bank account removed",
    "billing_portal.session.created": "Billing portal link created",
    "bank_account.verified": "Bank account verified",
    "payout_schedule.updated": "Payout schedule changed",
    "billing_settings.updated": "Billing settings changed",
    "blocklist_entry.created": "Added to the blocklist",
    "blocklist_entry.deleted": "Removed from the blocklist",
    "branding.color_changed": "Brand color changed",
    "branding.logo_removed": "Logo removed",
    "branding.logo_uploaded": "Logo uploaded",
    "checkout.session.address_throttled": "Checkout paused for an address",
    "checkout.session.attempt_refused": "Checkout attempt refused",
    "dispute.accepted": "Dispute accepted",
    "dispute.evidence_added": "Dispute evidence added",
    "dispute.evidence_removed": "Dispute evidence removed",
    "dispute.evidence_submitted": "Dispute evidence submitted",
    "gateway_config.created": "Processor added",
    "gateway_config.deleted": "Processor removed",
    "gateway_config.disabled": "Processor turned off",
    "gateway_config.enabled": "Processor turned on",
    "gateway_config.reordered": "Processors reordered",
    "gateway_config.pinned": "Processor pinned ahead of cheaper ones",
    "gateway_config.unpinned": "Processor unpinned",
    "gateway_config.updated": "Processor updated",
    "payment_method_domain.registered": "Checkout domain registered with Stripe for wallets",
    "payment_method_domain.checked": "Checkout domain checked with Stripe for wallets",
    "invitation.accepted": "Invitation accepted",
    "invitation.created": "Team member invited",
    "invitation.revoked": "Invitation revoked",
    "member.left": "Member left the team",
    "member.removed": "Member removed",
    "member.role_changed": "Role changed",
    "merchant.created": "Account created",
    "merchant.profile_updated": "Business profile updated",
    "merchant.refund_limits_updated": "Refund limits changed",
    "merchant.risk_thresholds_changed": "Risk thresholds changed",
    "ownership.transferred": "Ownership transferred",
    "payment.review_approved": "Review: approved",
    "payment.review_fraudulent": "Review: marked fraudulent",
    "payment_link.activated": "Payment link turned on",
    "payment_link.created": "Payment link created",
    "payment_link.deactivated": "Payment link turned off",
    "payment_link.updated": "Payment link updated",
    "price.created": "Price added",
    "price.updated": "Price updated",
    "product.created": "Product created",
    "product.updated": "Product updated",
    "reconciliation.ran": "Reconciliation run",
    "reconciliation_exception.resolved": "Reconciliation exception resolved",
    "session.mode_changed": "Switched test/live mode",
    "session.revoked": "Session signed out",
    "test_clock.advanced": "Test clock advanced",
    "test_clock.created": "Test clock created",
    "test_clock.deleted": "Test clock deleted",
    "user.email_verified": "E-mail verified",
    "user.password_reset": "Password reset",
    "user.password_reset_requested": "Password reset requested",
    "user.phone_removed": "Phone removed",
    "user.phone_verified": "Phone verified",
    "user.recovery_codes_regenerated": "Recovery codes replaced",
    "user.second_factor_proved": "Second factor confirmed",
    "user.sign_in_failed": "Sign-in failed",
    "user.signed_in": "Signed in",
    "user.signed_out": "Signed out",
    "user.signed_out_other_sessions": "Signed out other sessions",
    "user.two_factor_disabled": "Two-factor turned off",
    "user.two_factor_enabled": "Two-factor turned on",
    "webhook_delivery.redelivered": "Webhook resent",
    "webhook_delivery.test_sent": "Test webhook sent",
    "webhook_endpoint.created": "Webhook endpoint added",
    "webhook_endpoint.deleted": "Webhook endpoint removed",
    "webhook_endpoint.secret_rolled": "Webhook signing secret rolled",
    "webhook_endpoint.updated": "Webhook endpoint updated",
    # calls to a payment processor, in a payment's timeline
    "gateway.authorize": "Processor: authorize",
    "gateway.capture": "Processor: capture",
    "gateway.void": "Processor: void",
    "gateway.refund": "Processor: refund",
    "gateway.charge": "Processor: charge",
    "gateway.authenticate": "Processor: 3-D Secure result",
}

_SEPARATORS = re.compile(r"[._\-\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def words(code: str | None) -> str:
    """Any code as readable words, for a code without a label: "partially_refunded" reads
    "Partially refunded", "charge.dispute.closed" "Charge dispute closed", "retryAfter"
    "Retry after"."""
    text = _SEPARATORS.sub(" ", _CAMEL.sub(" ", str(code or ""))).strip().lower()
    return text[:1].upper() + text[1:] if text else "—"


def status(code: str | None) -> str:
    return STATUSES.get(str(code or "")) or words(code)


def role(code: str | None) -> str:
    return ROLES.get(str(code or "")) or words(code)


def risk_decision(code: str | None) -> str:
    return RISK_DECISIONS.get(str(code or "")) or (words(code) if code else "Not assessed")


def refund_reason(code: str | None) -> str:
    return REFUND_REASONS.get(str(code or "")) or (words(code) if code else "No reason given")


def dispute_reason(code: str | None) -> str:
    return DISPUTE_REASONS.get(str(code or "")) or words(code)


def event_type(code: str | None) -> str:
    return EVENT_TYPES.get(str(code or "")) or AUDIT_ACTIONS.get(str(code or "")) or words(code)


def action(code: str | None) -> str:
    """An audit action (or a payment event, which the audit log records too)."""
    return AUDIT_ACTIONS.get(str(code or "")) or EVENT_TYPES.get(str(code or "")) or words(code)


def card_brand(code: str | None) -> str:
    return CARD_BRANDS.get(str(code or "").lower()) or str(code or "").title() or "Card"


def wallet(code: str | None) -> str:
    return WALLETS.get(str(code or "")) or words(code)


def card(brand: str | None, last4: str | None, wallet_code: str | None = None) -> str:
    """A card as people read it: "Visa •••• 4242", or "Apple Pay · Visa •••• 4242" when a
    wallet paid with it."""
    text = f"{card_brand(brand)} •••• {last4 or '????'}"
    return f"{wallet(wallet_code)} · {text}" if wallet_code else text


def object_type(code: str | None) -> str:
    return OBJECT_TYPES.get(str(code or "")) or words(code)


def gateway(code: str | None) -> str:
    return GATEWAYS.get(str(code or "")) or words(code)


def actor_type(code: str | None) -> str:
    return ACTOR_TYPES.get(str(code or "")) or words(code)


# The merchant's balance transactions, by type (as Stripe names them).
BALANCE_TYPES: dict[str, str] = {
    "charge": "Charge",
    "refund": "Refund",
    "refund_failure": "Refund failed",
    "platform_fee": "Platform fee",
    "processor_fee": "Processor fee",
    "dispute": "Dispute",
    "dispute_reversal": "Dispute won",
    "dispute_fee": "Dispute fee",
    "payment_failure_refund": "Bank debit returned",
    "bank_return_fee": "Bank return fee",
    "payout": "Payout",
    "payout_failure": "Payout returned",
    "payout_cancel": "Payout canceled",
    "adjustment": "Adjustment",
}

# A statement's lines: each balance transaction type summed over a month, in the order a
# merchant reads them (what came in, what it cost, what went back, what was paid out).
BALANCE_TYPE_LINES: dict[str, str] = {
    "charge": "Charges",
    "processor_fee": "Processor fees",
    "platform_fee": "Platform fees",
    "refund": "Refunds",
    "refund_failure": "Failed refunds returned",
    "dispute": "Disputes",
    "dispute_fee": "Dispute fees",
    "dispute_reversal": "Disputes won",
    "payment_failure_refund": "Bank debits returned",
    "bank_return_fee": "Bank return fees",
    "adjustment": "Adjustments",
    "payout": "Payouts",
    "payout_failure": "Payouts returned",
    "payout_cancel": "Payouts canceled",
}

LEDGER_ACCOUNTS: dict[str, str] = {
    "merchant_pending": "Merchant: pending",
    "merchant_available": "Merchant: available",
    "merchant_in_transit": "Merchant: in transit",
    "processor_clearing": "Processor clearing",
    "platform_fee_revenue": "Platform fee revenue",
    "processor_fees": "Processor fees",
    "dispute_reserve": "Dispute reserve",
    "bank": "Merchant's bank",
}

PAYOUT_INTERVALS: dict[str, str] = {
    "daily": "Daily",
    "weekly": "Weekly",
    "monthly": "Monthly",
    "manual": "Manual",
}


# What a reconciliation run found: how our records and a processor's or the payout rail's
# disagree.
RECONCILIATION_KINDS: dict[str, str] = {
    "missing_ours": "Missing in our records",
    "missing_theirs": "Missing at the processor",
    "amount_differs": "Amount differs",
    "fee_differs": "Processor fee differs",
    "payout_returned": "Payout returned by the bank",
}


def reconciliation_kind(code: str | None) -> str:
    return RECONCILIATION_KINDS.get(str(code or "")) or words(code)


def balance_type(code: str | None) -> str:
    return BALANCE_TYPES.get(str(code or "")) or words(code)


def balance_line(code: str | None) -> str:
    """A statement line's heading: the plural of a balance transaction type ("Refunds")."""
    return BALANCE_TYPE_LINES.get(str(code or "")) or words(code)


def payout_interval(code: str | None) -> str:
    return PAYOUT_INTERVALS.get(str(code or "")) or words(code)


# Billing: how often a recurring price bills (one interval, and several), and a price's kind.
BILLING_INTERVALS: dict[str, tuple[str, str]] = {
    "day": ("day", "days"),
    "week": ("week", "weeks"),
    "month": ("month", "months"),
    "year": ("year", "years"),
}

PRICE_TYPES: dict[str, str] = {"one_time": "One-time", "recurring": "Recurring"}

# Why an invoice was made, and what ends a subscription whose dunning ran out.
BILLING_REASONS: dict[str, str] = {
    "subscription_create": "First invoice of a subscription",
    "subscription_cycle": "Renewal",
    "subscription_update": "Subscription change",
    "manual": "One-off invoice",
}
DUNNING_ENDS: dict[str, str] = {"cancel": "Cancel the subscription", "unpaid": "Mark it unpaid"}


def billing_reason(code: str | None) -> str:
    return BILLING_REASONS.get(str(code or "")) or words(code)


def price_type(code: str | None) -> str:
    return PRICE_TYPES.get(str(code or "")) or words(code)


def recurrence(interval: str | None, count: int | None = 1) -> str:
    """How often a price bills, in words: "every month", "every 3 months"; "one time" for a
    price without an interval."""
    if not interval:
        return "one time"
    one, many = BILLING_INTERVALS.get(interval, (words(interval).lower(),) * 2)
    return f"every {one}" if count in (None, 1) else f"every {count} {many}"


def labelled(code: str) -> bool:
    """Whether a code has its own label in any vocabulary here (the tests' check)."""
    return any(
        code in vocabulary
        for vocabulary in (
            STATUSES,
            ROLES,
            RISK_DECISIONS,
            REFUND_REASONS,
            DISPUTE_REASONS,
            ACTOR_TYPES,
            OBJECT_TYPES,
            GATEWAYS,
            EVENT_TYPES,
            AUDIT_ACTIONS,
            BALANCE_TYPES,
            LEDGER_ACCOUNTS,
            PAYOUT_INTERVALS,
            RECONCILIATION_KINDS,
            BILLING_INTERVALS,
            PRICE_TYPES,
            BILLING_REASONS,
            DUNNING_ENDS,
        )
    )
