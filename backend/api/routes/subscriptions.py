"""/api/subscriptions and /api/invoices: the billing engine's objects (backend/services/billing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from backend.api.deps import CallerDep, Result, respond
from backend.api.errors import error_responses, only, without
from backend.api.responses import JSONResponse
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.models.enums import InvoiceStatus, SubscriptionStatus
from backend.services.billing import invoices, settings, subscriptions
from backend.services.billing.changes import invoice_json, subscription_json

router = APIRouter(prefix="/api", tags=["subscriptions"])

_ERRORS = error_responses(
    {
        409: "Not possible in the object's state, or an Idempotency-Key conflict",
        422: "A value is not acceptable (price, quantity...)",
    }
)
_READ_ERRORS = only(_ERRORS, 400, 401, 404, 422, 429)
_LIST_ERRORS = without(_READ_ERRORS, 404)

SubscriptionId = Annotated[
    str, Path(min_length=1, max_length=64, description="A subscription (sub_...)")
]
InvoiceId = Annotated[str, Path(min_length=1, max_length=64, description="An invoice (in_...)")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="`nextCursor` of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1 to 100)")]
ObjectId = Annotated[str | None, Query(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(_Strict):
    priceId: StrictStr = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(1, ge=1, le=subscriptions.MAX_QUANTITY)


class SubscriptionCreate(_Strict):
    customerId: StrictStr = Field(min_length=1, max_length=64)
    items: list[ItemIn] = Field(min_length=1, max_length=subscriptions.MAX_ITEMS)
    trialDays: StrictInt | None = Field(None, ge=1, le=730)
    defaultPaymentMethod: StrictStr | None = Field(None, min_length=1, max_length=64)
    metadata: dict[StrictStr, StrictStr] | None = None


class PauseIn(_Strict):
    behavior: Literal["void", "keep_as_draft", "mark_uncollectible"]
    resumesAt: StrictInt | None = Field(None, description="Unix seconds; omitted: until resumed")


class SubscriptionUpdate(_Strict):
    """Only what is given changes; `items` is the whole new list, prorated by
    `prorationBehavior`; `pauseCollection: null` resumes collection."""

    items: list[ItemIn] | None = Field(None, min_length=1, max_length=subscriptions.MAX_ITEMS)
    prorationBehavior: Literal["create_prorations", "always_invoice", "none"] = "create_prorations"
    defaultPaymentMethod: StrictStr | None = Field(None, min_length=1, max_length=64)
    pauseCollection: PauseIn | None = None
    cancelAtPeriodEnd: StrictBool | None = None
    metadata: dict[StrictStr, StrictStr] | None = None


class CancelIn(_Strict):
    atPeriodEnd: StrictBool = False


class PayIn(_Strict):
    paymentMethod: StrictStr | None = Field(None, min_length=1, max_length=64)


def _subscription(db: Any, found: Any) -> dict[str, Any]:
    return {"success": True, "subscription": subscription_json(db, found)}


def _invoice(db: Any, found: Any) -> dict[str, Any]:
    return {"success": True, "invoice": invoice_json(db, found)}


# --- subscriptions ------------------------------------------------------------------------------


@router.post(
    "/subscriptions",
    status_code=201,
    responses=_ERRORS,
    summary="Subscribe a customer (the first invoice is charged at once, unless on trial)",
)
async def create_subscription(
    body: SubscriptionCreate, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            created = subscriptions.create_subscription(
                db,
                who.scope,
                customer_id=body.customerId,
                items=[item.model_dump() for item in body.items],
                trial_days=body.trialDays,
                default_payment_method=body.defaultPaymentMethod,
                metadata=body.metadata,
                actor=who.actor,
            )
            return 201, _subscription(db, created)

    return await respond(request, who, work)


@router.get("/subscriptions", responses=_LIST_ERRORS, summary="Subscriptions, newest first")
async def list_subscriptions(
    who: CallerDep,
    customer: ObjectId = None,
    status: Annotated[SubscriptionStatus | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = subscriptions.list_subscriptions(
                db, who.scope, customer_id=customer, status=status, limit=limit, cursor=cursor
            )
            found = [subscription_json(db, s) for s in page]
        return {"success": True, "subscriptions": found, "nextCursor": next_cursor}

    return await run_read(read)


@router.get("/subscriptions/{subscriptionId}", responses=_READ_ERRORS, summary="Get a subscription")
async def get_subscription(subscriptionId: SubscriptionId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            return _subscription(db, subscriptions.get_subscription(db, who.scope, subscriptionId))

    return await run_read(read)


@router.post(
    "/subscriptions/{subscriptionId}",
    responses=_ERRORS,
    summary="Update a subscription: items (prorated), card, pause, cancel at period end, metadata",
)
async def update_subscription(
    subscriptionId: SubscriptionId, body: SubscriptionUpdate, request: Request, who: CallerDep
) -> JSONResponse:
    given = body.model_fields_set
    unset = subscriptions.UNSET

    def work() -> Result:
        with session_scope() as db:
            updated = subscriptions.update_subscription(
                db,
                who.scope,
                subscriptionId,
                items=(
                    [item.model_dump() for item in body.items] if body.items is not None else unset
                ),
                proration_behavior=body.prorationBehavior,
                default_payment_method=(
                    body.defaultPaymentMethod if "defaultPaymentMethod" in given else unset
                ),
                pause_collection=(
                    (body.pauseCollection.model_dump() if body.pauseCollection else None)
                    if "pauseCollection" in given
                    else unset
                ),
                cancel_at_period_end=(
                    body.cancelAtPeriodEnd if body.cancelAtPeriodEnd is not None else unset
                ),
                metadata=body.metadata if body.metadata is not None else unset,
                actor=who.actor,
            )
            return 200, _subscription(db, updated)

    return await respond(request, who, work)


@router.post(
    "/subscriptions/{subscriptionId}/cancel",
    responses=_ERRORS,
    summary="Cancel a subscription now, or at the end of its period",
)
async def cancel_subscription(
    subscriptionId: SubscriptionId, body: CancelIn, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            canceled = subscriptions.cancel_subscription(
                db, who.scope, subscriptionId, at_period_end=body.atPeriodEnd, actor=who.actor
            )
            return 200, _subscription(db, canceled)

    return await respond(request, who, work)


# --- invoices -----------------------------------------------------------------------------------


@router.get("/invoices", responses=_LIST_ERRORS, summary="Invoices, newest first")
async def list_invoices(
    who: CallerDep,
    customer: ObjectId = None,
    subscription: ObjectId = None,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = invoices.list_invoices(
                db,
                who.scope,
                customer_id=customer,
                subscription_id=subscription,
                status=status,
                limit=limit,
                cursor=cursor,
            )
            found = [invoice_json(db, i) for i in page]
        return {"success": True, "invoices": found, "nextCursor": next_cursor}

    return await run_read(read)


@router.get("/invoices/{invoiceId}", responses=_READ_ERRORS, summary="Get an invoice")
async def get_invoice(invoiceId: InvoiceId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            return _invoice(db, invoices.get_invoice(db, who.scope, invoiceId))

    return await run_read(read)


@router.post(
    "/invoices/{invoiceId}/pay",
    responses=_ERRORS,
    summary="Charge an open invoice now (a declined card is recorded on the invoice, not an error)",
)
async def pay_invoice(
    invoiceId: InvoiceId, request: Request, who: CallerDep, body: PayIn | None = None
) -> JSONResponse:
    card = body.paymentMethod if body else None

    def work() -> Result:
        with session_scope() as db:
            attempt = invoices.pay_invoice(
                db, who.scope, invoiceId, payment_method_id=card, actor=who.actor
            )
            return 200, _invoice(db, attempt.invoice)

    return await respond(request, who, work)


@router.post("/invoices/{invoiceId}/void", responses=_ERRORS, summary="Void an invoice")
async def void_invoice(invoiceId: InvoiceId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            return 200, _invoice(
                db, invoices.void_invoice(db, who.scope, invoiceId, actor=who.actor)
            )

    return await respond(request, who, work)


@router.post(
    "/invoices/{invoiceId}/mark_uncollectible",
    responses=_ERRORS,
    summary="Mark an open invoice uncollectible (it may still be paid later)",
)
async def mark_uncollectible(
    invoiceId: InvoiceId, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            marked = invoices.mark_uncollectible(db, who.scope, invoiceId, actor=who.actor)
            return 200, _invoice(db, marked)

    return await respond(request, who, work)


# --- billing settings ---------------------------------------------------------------------------


class SettingsUpdate(_Strict):
    retryDays: list[StrictInt] | None = Field(
        None, max_length=settings.MAX_RETRIES, description="Days after the first failure"
    )
    dunningEnd: Literal["cancel", "unpaid"] | None = None
    portalAllowsCancel: StrictBool | None = None


def _settings(found: Any) -> dict[str, Any]:
    return {
        "success": True,
        "settings": {
            "object": "billing_settings",
            "retryDays": found.retry_days,
            "dunningEnd": found.dunning_end,
            "portalAllowsCancel": found.portal_allows_cancel,
            "invoicePrefix": found.invoice_prefix,
        },
    }


@router.get("/billing/settings", responses=_LIST_ERRORS, summary="The dunning schedule and more")
async def get_settings(who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope() as db:  # made with the defaults on first read
            return _settings(settings.billing_settings(db, who.scope.merchant_id))

    return await run_read(read)


@router.post(
    "/billing/settings",
    responses=_ERRORS,
    summary="Set the retry schedule, what ends dunning (cancel or unpaid), portal cancellation",
)
async def update_settings(body: SettingsUpdate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            updated = settings.update_billing_settings(
                db,
                who.scope,
                retry_days=body.retryDays,
                dunning_end=body.dunningEnd,
                portal_allows_cancel=body.portalAllowsCancel,
                actor=who.actor,
            )
            return 200, _settings(updated)

    return await respond(request, who, work)
