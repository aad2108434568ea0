"""The invoices a customer reaches through a signed link (backend.services.billing.links): the
hosted invoice page and its PDF. The token names one invoice; a draft is not shown (it is not
the customer's until finalized, as Stripe's hosted invoice pages), nor anything else."""

from __future__ import annotations

from sqlmodel import Session

from backend.core.errors import NotFound
from backend.models import Invoice
from backend.models.enums import InvoiceStatus
from backend.services.billing import invoice_pdf, invoices, links
from backend.services.context import Scope

MAX_TOKEN_LENGTH = 120


def invoice_for_token(db: Session, token: str, *, lock: bool = False) -> Invoice:
    """The finalized invoice a link's token names; NotFound for anything else."""
    invoice_id = (
        links.invoice_id_from(token)
        if isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH
        else None
    )
    invoice = db.get(Invoice, invoice_id, with_for_update=lock) if invoice_id else None
    if invoice is None or invoice.status == InvoiceStatus.DRAFT:
        raise NotFound("No such invoice")
    return invoice


def pdf_for_token(db: Session, token: str) -> tuple[str, bytes]:
    """(file name, PDF) of the invoice a customer's link names."""
    invoice = invoice_for_token(db, token)
    return invoice_pdf.filename(invoice), invoice_pdf.render(db, invoice)


def pdf_for_merchant(db: Session, scope: Scope, invoice_id: str) -> tuple[str, bytes]:
    """(file name, PDF) of the merchant's invoice (a draft too: it says so)."""
    invoice = invoices.get_invoice(db, scope, invoice_id)
    return invoice_pdf.filename(invoice), invoice_pdf.render(db, invoice)
