"""The public shape of billing's objects (camelCase, amounts in minor units, times in ISO 8601
UTC, a test clock's frozenTime in Unix seconds as the API takes it)."""

from __future__ import annotations

from typing import Any

from backend.models.billing import (
    Invoice,
    InvoiceLine,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    TestClock,
)
from backend.models.enums import InvoiceStatus
from backend.services.billing import links
from backend.services.billing.clock import unix
from backend.services.representations import timestamp


def product_to_dict(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "product",
        "livemode": p.livemode,
        "name": p.name,
        "description": p.description,
        "active": p.active,
        "metadata": p.metadata_,
        "createdAt": timestamp(p.created_at),
        "updatedAt": timestamp(p.updated_at),
    }


def price_to_dict(p: Price) -> dict[str, Any]:
    recurring = (
        {"interval": p.recurring_interval, "intervalCount": p.recurring_interval_count}
        if p.recurring_interval
        else None
    )
    return {
        "id": p.id,
        "object": "price",
        "livemode": p.livemode,
        "productId": p.product_id,
        "unitAmountCents": p.unit_amount,
        "currency": p.currency,
        "type": p.type,
        "recurring": recurring,
        "active": p.active,
        "nickname": p.nickname,
        "metadata": p.metadata_,
        "createdAt": timestamp(p.created_at),
        "updatedAt": timestamp(p.updated_at),
    }


def clock_to_dict(c: TestClock) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "test_clock",
        "livemode": c.livemode,
        "name": c.name,
        "frozenTime": unix(c),
        "status": c.status,
        "createdAt": timestamp(c.created_at),
        "updatedAt": timestamp(c.updated_at),
    }


def subscription_to_dict(
    s: Subscription, items: list[tuple[SubscriptionItem, Price]]
) -> dict[str, Any]:
    return {
        "id": s.id,
        "object": "subscription",
        "livemode": s.livemode,
        "customerId": s.customer_id,
        "status": s.status,
        "currency": s.currency,
        "items": [
            {
                "id": item.id,
                "priceId": price.id,
                "productId": price.product_id,
                "quantity": item.quantity,
                "unitAmountCents": price.unit_amount,
                "recurring": {
                    "interval": price.recurring_interval,
                    "intervalCount": price.recurring_interval_count,
                },
            }
            for item, price in items
        ],
        "defaultPaymentMethod": s.default_payment_method_id,
        "billingCycleAnchor": timestamp(s.billing_cycle_anchor),
        "currentPeriodStart": timestamp(s.current_period_start),
        "currentPeriodEnd": timestamp(s.current_period_end),
        "trialStart": timestamp(s.trial_start),
        "trialEnd": timestamp(s.trial_end),
        "cancelAtPeriodEnd": s.cancel_at_period_end,
        "canceledAt": timestamp(s.canceled_at),
        "endedAt": timestamp(s.ended_at),
        "cancellationReason": s.cancellation_reason,
        "pauseCollection": (
            {"behavior": s.pause_behavior, "resumesAt": timestamp(s.pause_resumes_at)}
            if s.pause_behavior
            else None
        ),
        "latestInvoice": s.latest_invoice_id,
        "testClock": s.test_clock_id,
        "metadata": s.metadata_,
        "createdAt": timestamp(s.created_at),
        "updatedAt": timestamp(s.updated_at),
    }


def invoice_to_dict(i: Invoice, lines: list[InvoiceLine]) -> dict[str, Any]:
    return {
        "id": i.id,
        "object": "invoice",
        "livemode": i.livemode,
        "number": i.number,
        "status": i.status,
        "billingReason": i.billing_reason,
        "customerId": i.customer_id,
        "subscriptionId": i.subscription_id,
        "currency": i.currency,
        "subtotalCents": i.subtotal,
        "totalCents": i.total,
        "amountDueCents": i.amount_due,
        "amountPaidCents": i.amount_paid,
        "amountRemainingCents": amount_remaining(i),
        "attemptCount": i.attempt_count,
        "nextPaymentAttempt": timestamp(i.next_payment_attempt),
        "lastPaymentError": (
            {"code": i.last_failure_code, "message": i.last_failure_message}
            if i.last_failure_code
            else None
        ),
        "paymentId": i.payment_id,
        "periodStart": timestamp(i.period_start),
        "periodEnd": timestamp(i.period_end),
        "customerEmail": i.customer_email,
        "customerName": i.customer_name,
        "hostedUrl": links.invoice_url(i.id) if i.status != InvoiceStatus.DRAFT else None,
        "pdfUrl": links.invoice_pdf_url(i.id) if i.status != InvoiceStatus.DRAFT else None,
        "lines": [
            {
                "id": line.id,
                "description": line.description,
                "amountCents": line.amount,
                "currency": line.currency,
                "quantity": line.quantity,
                "unitAmountCents": line.unit_amount,
                "priceId": line.price_id,
                "proration": line.proration,
                "periodStart": timestamp(line.period_start),
                "periodEnd": timestamp(line.period_end),
            }
            for line in lines
        ],
        "finalizedAt": timestamp(i.finalized_at),
        "paidAt": timestamp(i.paid_at),
        "voidedAt": timestamp(i.voided_at),
        "markedUncollectibleAt": timestamp(i.marked_uncollectible_at),
        "testClock": i.test_clock_id,
        "metadata": i.metadata_,
        "createdAt": timestamp(i.created_at),
        "updatedAt": timestamp(i.updated_at),
    }


def amount_remaining(i: Invoice) -> int:
    """What is still owed: nothing once paid, voided or a draft's (not yet owed)."""
    if i.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        return i.amount_due - i.amount_paid
    return 0
