"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

import backend.models.base  # noqa: F401  (sets the naming convention before any table)
from backend.models.accounts import ApiKey, Membership, Merchant, User, UserSession
from backend.models.bank_debits import BankDebit
from backend.models.banking import BankAccount
from backend.models.billing import (
    BillingPortalSession,
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    TestClock,
)
from backend.models.checkout import BrandLogo, CheckoutSession, PaymentLink
from backend.models.commerce import (
    Customer,
    Dispute,
    MemberRefundDay,
    Order,
    Payment,
    PaymentMethod,
    Refund,
)
from backend.models.dashboard_totals import DashboardMethodTotal, DashboardTotal
from backend.models.evidence import DisputeEvidenceFile, DisputeResponse
from backend.models.fees import FeeOverride, FeeTier
from backend.models.identity import ActionToken, Invitation, LoginThrottle
from backend.models.ledger import (
    Balance,
    BalanceTransaction,
    LedgerEntry,
    LedgerJournal,
    Payout,
    PayoutRailCursor,
    PayoutSchedule,
)
from backend.models.messages import OutboundEmail
from backend.models.notifications import NotificationPreference
from backend.models.ops import AuditLog, IdempotencyKey
from backend.models.reconciliation import ProcessorPayoutCursor, ReconciliationException
from backend.models.reporting_indexes import PAYMENT_INDEXES  # noqa: F401  (registers them)
from backend.models.routing import BlocklistEntry, GatewayConfig, PaymentAttempt, ProcessorCircuit
from backend.models.two_factor import OutboundSms, PendingLogin, RecoveryCode, SmsVerification
from backend.models.types import UTCDateTime, utcnow
from backend.models.wallets import PaymentMethodDomain
from backend.models.webhooks import (
    DomainEvent,
    InboundWebhookEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)

__all__ = [
    "ActionToken",
    "ApiKey",
    "AuditLog",
    "Balance",
    "BalanceTransaction",
    "BankAccount",
    "BankDebit",
    "BillingPortalSession",
    "BillingSettings",
    "BlocklistEntry",
    "BrandLogo",
    "CheckoutSession",
    "Customer",
    "DashboardMethodTotal",
    "DashboardTotal",
    "Dispute",
    "DisputeEvidenceFile",
    "DisputeResponse",
    "DomainEvent",
    "FeeOverride",
    "FeeTier",
    "GatewayConfig",
    "IdempotencyKey",
    "InboundWebhookEvent",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "LedgerEntry",
    "LedgerJournal",
    "LoginThrottle",
    "MemberRefundDay",
    "Membership",
    "Merchant",
    "NotificationPreference",
    "Order",
    "OutboundEmail",
    "OutboundSms",
    "Payment",
    "PaymentAttempt",
    "PaymentLink",
    "PaymentMethod",
    "PaymentMethodDomain",
    "Payout",
    "PayoutRailCursor",
    "PayoutSchedule",
    "PendingLogin",
    "Price",
    "ProcessorCircuit",
    "ProcessorPayoutCursor",
    "Product",
    "ReconciliationException",
    "RecoveryCode",
    "Refund",
    "SmsVerification",
    "Subscription",
    "SubscriptionItem",
    "TestClock",
    "UTCDateTime",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
    "utcnow",
]
