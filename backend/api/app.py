"""FastAPI application for everything under /api."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api import docs, errors, input_hygiene, json_body
from backend.api.limits_middleware import BodySizeLimit
from backend.api.responses import JSONResponse
from backend.api.routes import checkout as checkout_routes
from backend.api.routes import (
    customers,
    payments,
    payouts,
    portal_exports,
    session_cookie,
    test_approval,
    webhook_endpoints,
    webhooks_paypal,
    webhooks_stripe,
    well_known,
)
from backend.api.routes.audit_export import router as audit_export_router
from backend.api.routes.billing import router as billing_router
from backend.api.routes.billing_portal import router as billing_portal_router
from backend.api.routes.invoice_documents import router as invoice_documents_router
from backend.api.routes.subscriptions import router as subscriptions_router
from backend.api.security_headers import SecurityHeaders
from backend.core import db
from backend.core.config import APP_VERSION, get_settings
from backend.core.read_threads import run_read

DESCRIPTION = """
The merchant REST API. Authenticate with `Authorization: Bearer sk_test_...` (test mode) or
`sk_live_...` (live mode); the two never see each other's data. Amounts are integers in the
currency's minor unit. Every POST accepts an `Idempotency-Key` header: the same key and body
return the first response for 24 hours, the same key with another body is refused (409).
Errors look like `{"success": false, "error": {"code", "message", "param"}}`.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    settings.check_production_ready()
    api = FastAPI(
        title="PayPortal API",
        version=APP_VERSION,
        description=DESCRIPTION,
        docs_url=None,  # backend.api.docs: Swagger UI from a package, not a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=JSONResponse,
        # Any request may be refused for its text (backend.api.input_hygiene), before routing.
        responses={400: {"model": errors.ErrorBody, "description": input_hygiene.REFUSED}},
    )
    errors.install(api)
    # The last added runs first: the size limit, then the text checks on path, query and JSON
    # body (Stripe's webhooks check their body after the signature, in their route).
    api.add_middleware(
        input_hygiene.InputHygiene,
        router=api.router,
        signed_prefixes=(webhooks_stripe.PATH, webhooks_paypal.PATH),
    )
    api.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    api.add_middleware(SecurityHeaders)  # outermost: refusals carry the headers too

    @api.get(
        "/api/health",
        tags=["health"],
        summary="Service health",
        responses={503: {"description": "The database does not answer"}},
    )
    async def health() -> JSONResponse:
        database_ok = await run_read(db.ping)
        body = {
            "status": "ok" if database_ok else "unavailable",
            "version": APP_VERSION,
            "database": "ok" if database_ok else "unavailable",
        }
        return JSONResponse(body, status_code=200 if database_ok else 503)

    api.include_router(payments.router)
    api.include_router(payouts.router)
    api.include_router(customers.router)
    api.include_router(billing_router)
    api.include_router(subscriptions_router)
    api.include_router(billing_portal_router)
    api.include_router(invoice_documents_router)
    api.include_router(webhook_endpoints.router)
    api.include_router(webhooks_stripe.router)
    api.include_router(webhooks_paypal.router)
    api.include_router(checkout_routes.router)
    api.include_router(portal_exports.router)
    api.include_router(session_cookie.router)
    api.include_router(audit_export_router)
    api.include_router(well_known.router)
    api.include_router(test_approval.router)
    json_body.add_schemas(api)
    docs.install(api, openapi_url="/api/openapi.json")
    return api


app = create_app()
