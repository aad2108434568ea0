"""The public shape of objects, shared by the REST API and the outbox events.

Field names follow the seed specification (camelCase, amounts in minor units).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.models import BankDebit, Customer, Dispute, Order, Payment, PaymentMethod, Refund
from backend.models.ledger import BalanceTransaction, Payout


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every API answer and event shows times."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def payment_to_dict(
    p: Payment, bank: BankDebit | None = None, action: Any = None
) -> dict[str, Any]:
    """A payment as the API shows it; `bank`: a bank payment's account and mandate, when the
    caller read them (paymentMethod.bankAccount); `action`: what a payment in requires_action
    waits for (authentication.next_action), when the caller asked (nextAction)."""
    return {
        "id": p.id,
        "object": "payment",
        "livemode": p.livemode,
        "orderId": p.order_id,
        "status": p.status,
        "captureMethod": p.capture_method,
        "currency": p.currency,
        "totalAmount": p.amount,
        "amountCaptured": p.amount_captured,
        "amountRefunded": p.amount_refunded,
        "platformFee": p.platform_fee,
        "gatewayFee": p.gateway_fee,
        "netAmount": p.net_amount,
        "gatewayType": p.gateway,
        "gatewayPaymentId": p.gateway_payment_id,
        "paymentMethod": {
            "type": p.payment_method_type,
            "brand": p.card_brand,
            "last4": p.card_last4,
            "expMonth": p.card_exp_month,
            "expYear": p.card_exp_year,
            "country": p.card_country,
            "bankAccount": bank_debit_to_dict(bank) if bank is not None else None,
            # As Stripe's card.wallet: the wallet that tokenised the card, else null.
            "wallet": {"type": p.card_wallet} if p.card_wallet else None,
        },
        "customerEmail": p.customer_email,
        "description": p.description,
        "risk": {
            "score": p.risk_score,
            "decision": p.risk_decision,
            "reasons": p.risk_reasons,
            "review": review_status(p),
            "reviewedAt": timestamp(p.reviewed_at),
        },
        "failure": (
            {"code": p.failure_code, "message": p.failure_message} if p.failure_code else None
        ),
        "metadata": p.metadata_,
        "createdAt": timestamp(p.created_at),
        "authorizedAt": timestamp(p.authorized_at),
        "capturedAt": timestamp(p.captured_at),
        "canceledAt": timestamp(p.canceled_at),
        "nextAction": next_action_to_dict(action),
    }


def next_action_to_dict(action: Any) -> dict[str, Any] | None:
    """As Stripe's PaymentIntent.next_action: a redirect (PayPal's approval page, our test
    approval page) or Stripe's script with the client secret; None when nothing is awaited."""
    if action is None:
        return None
    if action.client_secret:
        return {
            "type": action.type,
            "redirectToUrl": None,
            "useStripeSdk": {"clientSecret": action.client_secret},
        }
    return {
        "type": action.type,
        "redirectToUrl": {"url": action.url, "returnUrl": action.return_url},
        "useStripeSdk": None,
    }


def bank_debit_to_dict(d: BankDebit) -> dict[str, Any]:
    return {
        "bankName": d.bank_name,
        "last4": d.last4,
        "accountType": d.account_type,
        "mandate": {
            "text": d.mandate_text,
            "acceptedAt": timestamp(d.mandate_accepted_at),
            "ipAddress": d.mandate_ip_address,
            "userAgent": d.mandate_user_agent,
            "gatewayMandateId": d.gateway_mandate_id,
        },
        "returnCode": d.return_code,
        "returnedAt": timestamp(d.returned_at),
        "returnFeeCents": d.return_fee,
    }


def review_status(p: Payment) -> str | None:
    """ "open" while a flagged payment awaits a decision, then how its review ended."""
    if p.risk_decision == "review" and p.reviewed_at is None:
        return "open"
    return p.review_outcome


def order_to_dict(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "object": "order",
        "livemode": o.livemode,
        "amountCents": o.amount,
        "currency": o.currency,
        "reference": o.reference,
        "customerEmail": o.customer_email,
        "status": o.status,
        "metadata": o.metadata_,
        "createdAt": timestamp(o.created_at),
    }


def refund_to_dict(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "object": "refund",
        "paymentId": r.payment_id,
        "amountCents": r.amount,
        "currency": r.currency,
        "status": r.status,
        "reason": r.reason,
        "platformFeeRefunded": r.platform_fee_refunded,
        "gatewayFeeRefunded": r.gateway_fee_refunded,
        "failureReason": r.failure_reason,
        "createdAt": timestamp(r.created_at),
    }


def dispute_to_dict(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "dispute",
        "paymentId": d.payment_id,
        "amountCents": d.amount,
        "feeCents": d.fee,
        "currency": d.currency,
        "status": d.status,
        "reason": d.reason,
        "evidenceDueBy": timestamp(d.evidence_due_by),
        "createdAt": timestamp(d.created_at),
        "closedAt": timestamp(d.closed_at),
    }


def payout_to_dict(p: Payout) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "payout",
        "amountCents": p.amount,
        "currency": p.currency,
        "status": p.status,
        "automatic": p.automatic,
        "method": p.rail,
        "description": p.description,
        "arrivalDate": timestamp(p.arrival_date),
        "failureCode": p.failure_code,
        "failureMessage": p.failure_message,
        "createdAt": timestamp(p.created_at),
        "paidAt": timestamp(p.paid_at),
        "failedAt": timestamp(p.failed_at),
        "canceledAt": timestamp(p.canceled_at),
    }


def balance_transaction_to_dict(t: BalanceTransaction) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "balance_transaction",
        "type": t.type,
        "amountCents": t.amount,
        "feeCents": t.fee,
        "netCents": t.net,
        "currency": t.currency,
        "status": t.status,
        "availableOn": timestamp(t.available_on),
        "source": t.source_id,
        "sourceType": t.source_type,
        "payout": t.payout_id,
        "description": t.description,
        "createdAt": timestamp(t.created_at),
    }


def customer_to_dict(c: Customer) -> dict[str, Any]:
    address = {
        "line1": c.address_line1,
        "line2": c.address_line2,
        "city": c.address_city,
        "state": c.address_state,
        "postalCode": c.address_postal_code,
        "country": c.country,
    }
    return {
        "id": c.id,
        "object": "customer",
        "livemode": c.livemode,
        "email": c.email,
        "name": c.name,
        "phone": c.phone,
        "address": address if any(address.values()) else None,
        "defaultPaymentMethod": c.default_payment_method_id,
        "testClock": c.test_clock_id,
        "metadata": c.metadata_,
        "createdAt": timestamp(c.created_at),
        "updatedAt": timestamp(c.updated_at),
        "deleted": c.deleted_at is not None,
    }


def payment_method_to_dict(m: PaymentMethod) -> dict[str, Any]:
    return {
        "id": m.id,
        "object": "payment_method",
        "livemode": m.livemode,
        "customer": m.customer_id,
        "type": m.type,
        "card": {
            "brand": m.brand,
            "last4": m.last4,
            "expMonth": m.exp_month,
            "expYear": m.exp_year,
            "country": m.country,
        },
        "gatewayType": m.gateway,
        "authenticationRequired": m.authentication_required,
        "createdAt": timestamp(m.created_at),
        "detachedAt": timestamp(m.detached_at),
    }
