"""Invoice PDFs: the customer's (public, through the signed link the invoice e-mails and the
hosted invoice page carry) and the merchant's (with the API key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from backend.api.deps import CallerDep
from backend.api.errors import ErrorBody, error_responses
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.services.billing import hosted_invoices

router = APIRouter(prefix="/api", tags=["invoices"])

_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF"},
}
_ERRORS = error_responses({404: "No such invoice for this merchant and mode"}, 401, 404, 429)
InvoiceToken = Annotated[
    str, Path(min_length=1, max_length=120, description="The signed token of the invoice link")
]
InvoiceId = Annotated[str, Path(min_length=1, max_length=64, description="An invoice (in_...)")]


def _pdf(name: str, data: bytes) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # A customer's invoice: never kept by a shared cache.
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/invoices/hosted/{token}/pdf",
    response_class=Response,
    responses={**_PDF, 404: {"model": ErrorBody, "description": "Not a link to an invoice"}},
    summary="An invoice's PDF, for the customer's signed link (no API key)",
)
async def hosted_invoice_pdf(token: InvoiceToken) -> Response:
    def read() -> Response:
        with session_scope(readonly=True) as db:
            return _pdf(*hosted_invoices.pdf_for_token(db, token))

    return await run_read(read)


@router.get(
    "/invoices/{invoiceId}/pdf",
    response_class=Response,
    responses={**_PDF, **_ERRORS},
    summary="An invoice's PDF",
)
async def invoice_pdf(invoiceId: InvoiceId, who: CallerDep) -> Response:
    def read() -> Response:
        with session_scope(readonly=True) as db:
            return _pdf(*hosted_invoices.pdf_for_merchant(db, who.scope, invoiceId))

    return await run_read(read)
