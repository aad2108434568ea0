"""The closed vocabularies stored in string columns."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    ANALYST = "analyst"
    SUPPORT = "support"


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_ACTION = "requires_action"
    # A bank debit (ACH) on its way: the bank answers days later, succeeded or failed.
    PROCESSING = "processing"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"  # captured
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"
    DISPUTED = "disputed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


class OrderStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class RiskDecision(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class InboundEventStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"  # will be retried
    DEAD = "dead"  # retries exhausted


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class ActorType(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
    WEBHOOK = "webhook"


class LedgerAccount(StrEnum):
    """The ledger's accounts, per merchant, mode, currency and holder (who holds the money: the
    platform, or a merchant's own processor that pays them directly).

    Amounts are signed and every journal sums to zero per currency. The merchant's accounts
    (pending, available, in transit) and the platform's revenue count what is owed to or earned
    by their owner, so their balances are positive; the processor's clearing account is negative
    while the processor owes us money, the bank account counts what reached the merchant's bank.
    """

    MERCHANT_PENDING = "merchant_pending"
    MERCHANT_AVAILABLE = "merchant_available"
    MERCHANT_IN_TRANSIT = "merchant_in_transit"
    PROCESSOR_CLEARING = "processor_clearing"
    PLATFORM_FEE_REVENUE = "platform_fee_revenue"
    PROCESSOR_FEES = "processor_fees"
    DISPUTE_RESERVE = "dispute_reserve"
    BANK = "bank"


class BalanceTransactionType(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"
    REFUND_FAILURE = "refund_failure"  # a booked refund the processor could not make
    PLATFORM_FEE = "platform_fee"
    PROCESSOR_FEE = "processor_fee"
    DISPUTE = "dispute"
    DISPUTE_REVERSAL = "dispute_reversal"
    DISPUTE_FEE = "dispute_fee"
    # A bank debit the customer's bank returned after it succeeded (Stripe's name), and the
    # processor's fee for that return.
    PAYMENT_FAILURE_REFUND = "payment_failure_refund"
    BANK_RETURN_FEE = "bank_return_fee"
    PAYOUT = "payout"
    PAYOUT_FAILURE = "payout_failure"
    PAYOUT_CANCEL = "payout_cancel"
    ADJUSTMENT = "adjustment"


class BalanceTransactionStatus(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"


class PayoutStatus(StrEnum):
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


class PayoutInterval(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    MANUAL = "manual"


class ReconciliationKind(StrEnum):
    """How our records and a processor's or payout rail's disagree."""

    MISSING_OURS = "missing_ours"  # the processor has it, we have no record of it
    MISSING_THEIRS = "missing_theirs"  # we have it, the processor or the rail does not
    AMOUNT_DIFFERS = "amount_differs"
    FEE_DIFFERS = "fee_differs"
    PAYOUT_RETURNED = "payout_returned"  # we show it paid or on its way, the rail failed it


class ReconciliationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class BillingInterval(StrEnum):
    """How often a recurring price bills (with an interval count: every 3 months)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class PriceType(StrEnum):
    ONE_TIME = "one_time"
    RECURRING = "recurring"


class TestClockStatus(StrEnum):
    """A test clock is ready, or advancing while the billing engine catches up with it."""

    __test__ = False  # not a pytest test class, whatever its name

    READY = "ready"
    ADVANCING = "advancing"


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses. `incomplete`: the first invoice is not paid yet;
    `past_due`: a renewal failed and is being retried; `unpaid`: the retries ran out and the
    merchant chose to keep it (invoices stay open, nothing is retried); `paused`: collection is
    paused by the merchant."""

    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"


class InvoiceStatus(StrEnum):
    """draft -> open -> paid | uncollectible | void (uncollectible may still be paid)."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


class BillingReason(StrEnum):
    """Why an invoice was made (Stripe's billing_reason)."""

    SUBSCRIPTION_CREATE = "subscription_create"
    SUBSCRIPTION_CYCLE = "subscription_cycle"
    SUBSCRIPTION_UPDATE = "subscription_update"
    MANUAL = "manual"


class DunningEnd(StrEnum):
    """What becomes of a subscription when the last retry of a renewal fails."""

    CANCEL = "cancel"
    UNPAID = "unpaid"
