"""Downloads for the signed-in portal: CSV of the payments list, of the balance transactions and
of the reconciliation exceptions, monthly statements (PDF and CSV) and dispute evidence files.

Authorised by the portal's session cookie (pp_session), the same server-side session the
pages use, and the team role's permissions; never by an API key. Browsers send the cookie on
these same-origin links (SameSite=Strict), and a cross-site page cannot make them send it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.core.db import session_scope
from backend.core.errors import AuthenticationFailed
from backend.models import Merchant
from backend.services.context import Scope
from backend.services.identity import permissions, sessions, viewers
from backend.services.identity.permissions import Permission
from backend.services.payments import dispute_evidence
from backend.services.payouts import balance_page
from backend.services.reconciliation import exceptions
from backend.services.reporting import exports, statements

router = APIRouter(prefix="/api/portal", tags=["portal downloads"], include_in_schema=False)
COOKIE = sessions.COOKIE_NAME
# Never sniffed into something else, never framed, never cached by a shared cache.
_PRIVATE = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@dataclass(frozen=True)
class Viewer:
    scope: Scope
    timezone: str
    locale: str
    merchant_id: str


def _viewer(token: str | None, permission: Permission) -> Viewer:
    with session_scope() as db:  # resolve() may refresh the session's last-seen time
        ctx = sessions.resolve(db, token)
        if ctx is None:
            raise AuthenticationFailed("Sign in to the portal first", code="not_signed_in")
        permissions.require(ctx.role, permission)
        merchant = db.get(Merchant, ctx.merchant_id)
        assert merchant is not None  # the session joins it
        return Viewer(
            Scope(ctx.merchant_id, ctx.livemode), merchant.timezone, merchant.locale, merchant.id
        )


def _attachment(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@router.get("/exports/payments.csv")
async def payments_csv(request: Request) -> StreamingResponse:
    viewer = await run_in_threadpool(_viewer, request.cookies.get(COOKIE), Permission.EXPORT_DATA)
    filters = exports.filters_from_query(request.query_params, viewer.timezone)
    mode = "live" if viewer.scope.livemode else "test"
    name = f"payments-{mode}-{date.today().isoformat()}.csv"
    return StreamingResponse(
        exports.payments_csv(viewer.scope, filters, tz=viewer.timezone),
        media_type="text/csv; charset=utf-8",
        headers={**_PRIVATE, "Content-Disposition": _attachment(name)},
    )


def _member(token: str | None, permission: Permission) -> viewers.Viewer:
    """The signed-in member as the portal's pages see them (for the page services' exports)."""
    with session_scope() as db:  # resolve() may refresh the session's last-seen time
        ctx = sessions.resolve(db, token)
    if ctx is None:
        raise AuthenticationFailed("Sign in to the portal first", code="not_signed_in")
    permissions.require(ctx.role, permission)
    viewer = viewers.viewer_of(ctx)
    if viewer is None:
        raise AuthenticationFailed("Sign in to the portal first", code="not_signed_in")
    return viewer


@router.get("/exports/balance_transactions.csv")
async def balance_transactions_csv(request: Request) -> StreamingResponse:
    """The Balance page's transactions with its filters (type, currency, payout), newest first."""
    viewer = await run_in_threadpool(_member, request.cookies.get(COOKIE), Permission.EXPORT_DATA)
    params = request.query_params
    filters = balance_page.TransactionFilters.parse(
        params.get("type"), params.get("currency"), params.get("payout")
    )
    chunks = balance_page.transactions_csv(viewer, filters)
    head = await run_in_threadpool(next, chunks)

    def body() -> Iterator[str]:
        yield head
        yield from chunks

    mode = "live" if viewer.scope.livemode else "test"
    name = f"balance-transactions-{mode}-{date.today().isoformat()}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={**_PRIVATE, "Content-Disposition": _attachment(name)},
    )


@router.get("/exports/reconciliation.csv")
async def reconciliation_csv(request: Request) -> Response:
    viewer = await run_in_threadpool(_viewer, request.cookies.get(COOKIE), Permission.EXPORT_DATA)

    def render() -> str:
        with session_scope(readonly=True) as db:
            return "".join(exceptions.exceptions_csv(db, viewer.scope, tz=viewer.timezone))

    mode = "live" if viewer.scope.livemode else "test"
    name = f"reconciliation-{mode}-{date.today().isoformat()}.csv"
    return Response(
        await run_in_threadpool(render),
        media_type="text/csv; charset=utf-8",
        headers={**_PRIVATE, "Content-Disposition": _attachment(name)},
    )


@router.get("/statements/{month}.pdf")
async def monthly_statement(request: Request, month: str) -> Response:
    viewer = await run_in_threadpool(_viewer, request.cookies.get(COOKIE), Permission.EXPORT_DATA)
    first = statements.parse_month(month)

    def render() -> bytes:
        with session_scope(readonly=True) as db:
            statement = statements.build(db, viewer.merchant_id, viewer.scope.livemode, first)
        return statements.render_pdf(statement)

    pdf = await run_in_threadpool(render)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**_PRIVATE, "Content-Disposition": _attachment(f"statement-{month}.pdf")},
    )


@router.get("/statements/{month}.csv")
async def monthly_statement_csv(request: Request, month: str) -> StreamingResponse:
    viewer = await run_in_threadpool(_viewer, request.cookies.get(COOKIE), Permission.EXPORT_DATA)
    first = statements.parse_month(month)
    chunks = statements.statement_csv(viewer.scope, first)
    # The summary is read before the response starts, so a refusal or a statement that does
    # not add up is an error answer, not a broken download.
    head = await run_in_threadpool(next, chunks)

    def body() -> Iterator[str]:
        yield head
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={**_PRIVATE, "Content-Disposition": _attachment(f"statement-{month}.csv")},
    )


@router.get("/disputes/{dispute_id}/evidence/{file_id}")
async def evidence_file(request: Request, dispute_id: str, file_id: str) -> Response:
    viewer = await run_in_threadpool(_viewer, request.cookies.get(COOKIE), Permission.VIEW_DATA)

    def load() -> tuple[str, str, bytes]:
        with session_scope(readonly=True) as db:
            row, path = dispute_evidence.evidence_file(
                db, viewer.scope, dispute_id[:40], file_id[:40]
            )
        return row.filename, row.content_type, path.read_bytes()

    filename, content_type, data = await run_in_threadpool(load)
    return Response(
        data,
        media_type=content_type,
        headers={**_PRIVATE, "Content-Disposition": _attachment(filename)},
    )
