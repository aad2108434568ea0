"""The audit log as CSV, for the portal's "Export CSV" link.

Authorised by the portal's session cookie (not an API key): the signed-in member's role must
allow VIEW_AUDIT_LOG. The file is streamed in batches (services.reporting.audit_log.iter_csv), so
a long log never sits in memory. The cookie is SameSite=Strict, so another site cannot make a
browser download it.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.core.db import session_scope
from backend.core.errors import AuthenticationFailed, ServiceError
from backend.models import Merchant
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity import sessions
from backend.services.identity.permissions import Permission, require
from backend.services.reporting import audit_log

from ..errors import service_error_response

router = APIRouter(tags=["portal"])


def _authorise(
    token: str | None, ip: str | None, query: dict[str, str]
) -> tuple[str, str, audit_log.AuditFilters]:
    filters = audit_log.parse_filters(
        actor=query.get("actor", ""),
        action=query.get("action", ""),
        object_type=query.get("object_type", ""),
        date_from=query.get("from", ""),
        date_to=query.get("to", ""),
    )
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
        if ctx is None:
            raise AuthenticationFailed("Sign in to the portal to export the audit log")
        require(ctx.role, Permission.VIEW_AUDIT_LOG)
        merchant = db.get(Merchant, ctx.merchant_id)
        timezone = merchant.timezone if merchant else "UTC"
        audit.record(
            db,
            action="audit_log.exported",
            merchant_id=ctx.merchant_id,
            actor_type=ActorType.USER,
            actor_id=ctx.user_id,
            object_type="audit_log",
            ip_address=ip,
            details={k: v for k, v in query.items() if v},
        )
    return ctx.merchant_id, timezone, filters


@router.get(
    "/api/portal/audit-log.csv",
    summary="Export the audit log as CSV (portal session)",
    include_in_schema=False,
    response_model=None,
)
async def export_audit_log(
    request: Request,
    actor: str = Query("", max_length=60),
    action: str = Query("", max_length=100),
    object_type: str = Query("", max_length=40),
    date_from: str = Query("", alias="from", max_length=10),
    date_to: str = Query("", alias="to", max_length=10),
) -> Response:
    query = {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "from": date_from,
        "to": date_to,
    }
    try:
        merchant_id, timezone, filters = await run_in_threadpool(
            _authorise,
            request.cookies.get(sessions.COOKIE_NAME),
            request.client.host if request.client else None,
            query,
        )
    except ServiceError as exc:
        return service_error_response(exc)
    filename = f"audit-log-{date.today().isoformat()}.csv"
    return StreamingResponse(
        audit_log.iter_csv(merchant_id=merchant_id, filters=filters, timezone=timezone),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
