"""What a signed-in member does from the portal's Invoices pages: the list (filtered by
status, keyset-paged), one invoice's page (lines with proration credits as negative amounts,
payment attempts and the next retry, the customer's hosted page and PDF links, timeline) and
its actions: void, mark uncollectible, retry the payment now.

As subscription_pages.py: the permission matrix first (seeing: view_data; acting:
manage_billing); in live mode voiding and writing off an invoice ask for a fresh second factor
(StepUpRequired); then one unit of work through the engine's invoices.py, which the REST API
calls too. A retried payment that is declined is not an error: the invoice records the failure
and the page says why, in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.db import session_scope
from backend.models.billing import Invoice
from backend.models.enums import InvoiceStatus
from backend.services import labels
from backend.services.billing import invoices, links
from backend.services.billing.billing_views import (
    Fact,
    InvoiceRow,
    Page,
    TimelineEntry,
    customers_by_id,
    day,
    invoice_row,
    listing,
    moment,
    money,
    require_manage,
    timeline,
)
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer

PAGE_SIZE = 25


def _rows(db: Session, found: list[Invoice], viewer: Viewer) -> list[InvoiceRow]:
    who = customers_by_id(db, (i.customer_id for i in found))
    return [invoice_row(i, who.get(i.customer_id), viewer) for i in found]


def invoice_list(
    viewer: Viewer,
    *,
    status: str | None = None,
    customer_id: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page[InvoiceRow]:
    """The merchant's invoices, newest first, optionally of one status or customer."""
    return listing(
        viewer,
        invoices.list_invoices,
        _rows,
        InvoiceStatus,
        status=status,
        customer_id=customer_id,
        cursor=cursor,
        limit=limit,
    )


@dataclass(frozen=True)
class LineView:
    description: str
    period: str
    quantity: str
    amount: str  # a credit is negative: "-$20.00"
    credit: bool


@dataclass(frozen=True)
class InvoicePage:
    row: InvoiceRow
    subscription_id: str
    facts: list[Fact]
    lines: list[LineView]
    total: str
    attempts: list[Fact]  # attempts made, last failure, next retry
    hosted_url: str
    pdf_url: str
    timeline: list[TimelineEntry]
    can_manage: bool
    can_void: bool
    can_mark_uncollectible: bool
    can_retry: bool


def _line(line, viewer: Viewer) -> LineView:  # type: ignore[no-untyped-def]
    return LineView(
        description=line.description,
        period=f"{day(line.period_start, viewer)} to {day(line.period_end, viewer)}",
        quantity=str(line.quantity) if line.quantity else "",
        amount=money(line.amount, line.currency, viewer),
        credit=line.amount < 0,
    )


def _attempts(invoice: Invoice, viewer: Viewer) -> list[Fact]:
    facts = [Fact("Payment attempts", f"{invoice.attempt_count:,}")]
    if invoice.first_failed_at:
        facts.append(Fact("First failed", moment(invoice.first_failed_at, viewer)))
    if invoice.last_failure_code or invoice.last_failure_message:
        facts.append(
            Fact(
                "Last failure",
                invoice.last_failure_message or labels.words(invoice.last_failure_code),
            )
        )
    if invoice.status == InvoiceStatus.OPEN:
        facts.append(
            Fact(
                "Next retry",
                moment(invoice.next_payment_attempt, viewer)
                if invoice.next_payment_attempt
                else "None scheduled",
            )
        )
    if invoice.paid_at:
        facts.append(Fact("Paid", moment(invoice.paid_at, viewer)))
    return facts


def _facts(invoice: Invoice, viewer: Viewer) -> list[Fact]:
    facts = [
        Fact(
            "Billed for",
            labels.billing_reason(invoice.billing_reason),
        ),
        Fact("Period", f"{day(invoice.period_start, viewer)} to {day(invoice.period_end, viewer)}"),
        Fact("Amount due", money(invoice.amount_due, invoice.currency, viewer)),
        Fact("Amount paid", money(invoice.amount_paid, invoice.currency, viewer)),
        Fact("Created", moment(invoice.created_at, viewer)),
    ]
    if invoice.finalized_at:
        facts.append(Fact("Finalized", moment(invoice.finalized_at, viewer)))
    if invoice.voided_at:
        facts.append(Fact("Voided", moment(invoice.voided_at, viewer)))
    if invoice.marked_uncollectible_at:
        facts.append(Fact("Marked uncollectible", moment(invoice.marked_uncollectible_at, viewer)))
    return facts


def invoice_page(viewer: Viewer, invoice_id: str) -> InvoicePage:
    viewer.require(Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        invoice = invoices.get_invoice(db, viewer.scope, invoice_id)
        [row] = _rows(db, [invoice], viewer)
        lines = [_line(line, viewer) for line in invoices.lines_of(db, invoice)]
        events = timeline(db, viewer.ctx.merchant_id, [invoice.id], viewer, invoice.currency)
    status = invoice.status
    finalized = status != InvoiceStatus.DRAFT
    return InvoicePage(
        row=row,
        subscription_id=invoice.subscription_id or "",
        facts=_facts(invoice, viewer),
        lines=lines,
        total=money(invoice.total, invoice.currency, viewer),
        attempts=_attempts(invoice, viewer),
        hosted_url=links.invoice_url(invoice.id) if finalized else "",
        pdf_url=links.invoice_pdf_url(invoice.id) if finalized else "",
        timeline=events,
        can_manage=viewer.can(Permission.MANAGE_BILLING),
        can_void=status in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE),
        can_mark_uncollectible=status == InvoiceStatus.OPEN,
        can_retry=status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)
        and invoice.amount_due > invoice.amount_paid,
    )


# --- actions -------------------------------------------------------------------------------


def void(viewer: Viewer, invoice_id: str, ip: str | None = None) -> Invoice:
    """Void an open invoice: nothing more is owed on it (live mode: a fresh second factor)."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=True)
        return invoices.void_invoice(db, viewer.scope, invoice_id, actor=viewer.actor(ip))


def mark_uncollectible(viewer: Viewer, invoice_id: str, ip: str | None = None) -> Invoice:
    """Write an open invoice off; it may still be paid later (live: a fresh second factor)."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=True)
        return invoices.mark_uncollectible(db, viewer.scope, invoice_id, actor=viewer.actor(ip))


@dataclass(frozen=True)
class RetryResult:
    paid: bool
    message: str  # in words: "Paid: $12.50." or why it was declined


def retry_payment(viewer: Viewer, invoice_id: str, ip: str | None = None) -> RetryResult:
    """Charge the invoice now with the subscription's card (or the customer's default)."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=False)
        attempt = invoices.pay_invoice(db, viewer.scope, invoice_id, actor=viewer.actor(ip))
        invoice = attempt.invoice
        paid = invoice.status == InvoiceStatus.PAID
        if paid:
            message = f"Paid: {money(invoice.amount_paid, invoice.currency, viewer)}."
        else:
            why = invoice.last_failure_message or labels.words(invoice.last_failure_code)
            message = f"The payment failed: {why.rstrip('.')}."
        return RetryResult(paid, message)


def customer_invoices(viewer: Viewer, customer_id: str) -> Page[InvoiceRow]:
    return invoice_list(viewer, customer_id=customer_id)
