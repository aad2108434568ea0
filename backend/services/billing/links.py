"""The customer's links to an invoice: its hosted page (to see and pay it) and its PDF.

A link is the invoice's id and an HMAC of it under the app's secret key, so it can be e-mailed
and opened without signing in, cannot be guessed from another invoice's, and needs no row. It
does not expire: an invoice's page is the customer's receipt (Stripe's hosted invoice links
last long too); what it allows is only seeing and paying that one invoice.
"""

from __future__ import annotations

import hashlib
import hmac

from backend.core.config import get_settings

_PURPOSE = b"invoice-link:"
_SIGNATURE_CHARS = 32


def invoice_token(invoice_id: str) -> str:
    """`{invoice_id}.{signature}`: what the hosted page and the PDF route take."""
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, _PURPOSE + invoice_id.encode(), hashlib.sha256).hexdigest()
    return f"{invoice_id}.{digest[:_SIGNATURE_CHARS]}"


def invoice_id_from(token: str) -> str | None:
    """The invoice a token names, or None when it is not one we signed."""
    if not token.isascii():  # ours are; compare_digest refuses other text
        return None
    invoice_id, _, _signature = token.partition(".")
    if not invoice_id or not hmac.compare_digest(invoice_token(invoice_id), token):
        return None
    return invoice_id


def invoice_url(invoice_id: str) -> str:
    return f"{get_settings().app_url.rstrip('/')}/invoice/{invoice_token(invoice_id)}"


def invoice_pdf_url(invoice_id: str) -> str:
    return (
        f"{get_settings().app_url.rstrip('/')}/api/invoices/hosted/{invoice_token(invoice_id)}/pdf"
    )
