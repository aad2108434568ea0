"""Webhook endpoints: register, update, delete, roll the secret, test, read the log, redeliver."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from backend.api.deps import CallerDep, Result, respond
from backend.api.errors import error_responses, only, without
from backend.api.responses import JSONResponse
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.services.events import EVENT_TYPES
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import endpoints as webhook_endpoints
from backend.services.webhooks.outbound.deliveries import delivery_to_dict
from backend.services.webhooks.outbound.endpoints import endpoint_to_dict
from backend.services.webhooks.outbound.failures import FailureKind
from backend.tasks import outbound

router = APIRouter(prefix="/api", tags=["webhooks"])

_ERRORS = error_responses(
    {
        409: "Disabled endpoint, delivered event, or key reuse",
        422: "A value is not acceptable (URL, event types...)",
    }
)
_READ_ERRORS = only(_ERRORS, 400, 401, 404, 429)
_EVENTS_HELP = f'Event types to receive: any of {", ".join(EVENT_TYPES)}; or "*" for all'

EndpointId = Annotated[
    str, Path(min_length=1, max_length=64, description="An endpoint id (we_...)")
]
DeliveryId = Annotated[
    str, Path(min_length=1, max_length=64, description="A delivery id (whd_...)")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointCreate(_Strict):
    url: StrictStr = Field(
        min_length=1,
        max_length=2048,
        description="An https:// URL on a public address, without whitespace or control "
        "characters (test mode on a development server: http://localhost too)",
        examples=["https://example.com/webhooks/payportal"],
    )
    enabledEvents: list[StrictStr] = Field(min_length=1, max_length=50, description=_EVENTS_HELP)
    description: StrictStr | None = Field(None, max_length=300)


class EndpointUpdate(_Strict):
    url: StrictStr | None = Field(None, min_length=1, max_length=2048)
    enabledEvents: list[StrictStr] | None = Field(
        None, min_length=1, max_length=50, description=_EVENTS_HELP
    )
    description: StrictStr | None = Field(None, max_length=300)
    disabled: StrictBool | None = Field(None, description="true disables, false enables again")


class RollSecretBody(_Strict):
    expiresInHours: StrictInt = Field(
        24,
        ge=0,
        le=webhook_endpoints.MAX_OVERLAP_HOURS,
        description="How long the current secret keeps signing beside the new one",
    )


class RedeliverFailedBody(_Strict):
    since: AwareDatetime = Field(description="Failed deliveries created at or after this time")


class EndpointOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"]
    livemode: bool
    url: str
    description: str
    enabledEvents: list[str]
    status: Literal["enabled", "disabled"]
    disabledReason: str | None
    failingSince: str | None = Field(description="Since when deliveries have been failing")
    consecutiveFailures: int = Field(description="Failed attempts since the last success")
    lastSuccessAt: str | None = Field(description="When a delivery last succeeded")
    previousSecretExpiresAt: str | None
    createdAt: str
    updatedAt: str


class EndpointEnvelope(BaseModel):
    success: bool
    endpoint: EndpointOut


class EndpointWithSecret(EndpointEnvelope):
    secret: str = Field(description="The signing secret (whsec_...), shown this once")


class EndpointList(BaseModel):
    success: bool
    endpoints: list[EndpointOut]


class Deleted(BaseModel):
    success: bool
    id: str
    deleted: bool


# Why an attempt failed: the codes of services/webhooks/outbound/failures.py, their one home.
_REASON_CODES = Literal[tuple(kind.value for kind in FailureKind)]  # type: ignore[valid-type]


class AttemptOut(BaseModel):
    attemptedAt: str
    statusCode: int | None
    latencyMs: int | None
    reasonCode: _REASON_CODES | None = Field(description="Why it failed; null if it succeeded")
    reason: str | None = Field(description="Why it failed, in plain words")
    error: str | None = Field(description="The technical detail (exception, refusal)")
    responseExcerpt: str | None = Field(description="The first 2 KB of the response body")


class DeliveryOut(BaseModel):
    id: str
    object: Literal["webhook_delivery"]
    endpointId: str
    eventId: str
    eventType: str | None
    status: Literal["pending", "retrying", "succeeded", "failed"] = Field(
        description="pending: never tried; retrying: `attempt` of `maxAttempts` failed, the "
        "next at `nextAttemptAt`; succeeded; failed: no more attempts"
    )
    attempt: int = Field(description="Attempts made so far")
    maxAttempts: int = Field(
        description="Attempts in all if every one fails on the nominal schedule (jitter can "
        "fit in a few more)"
    )
    nextAttemptAt: str | None
    reasonCode: _REASON_CODES | None = Field(description="Why the last attempt failed")
    reason: str | None = Field(description="Why the last attempt failed, in plain words")
    attemptCount: int = Field(description="Attempts claimed, one in flight included")
    lastStatusCode: int | None
    lastError: str | None
    createdAt: str
    deliveredAt: str | None
    attempts: list[AttemptOut] | None = Field(None, description="In the delivery log only")


class DeliveryEnvelope(BaseModel):
    success: bool
    delivery: DeliveryOut


class DeliveryLog(BaseModel):
    success: bool
    deliveries: list[DeliveryOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class Redelivered(BaseModel):
    success: bool
    redelivered: int


def _with_secret(created: webhook_endpoints.EndpointWithSecret) -> dict[str, Any]:
    return {
        "success": True,
        "endpoint": endpoint_to_dict(created.endpoint),
        "secret": created.secret,
    }


@router.post(
    "/webhook_endpoints",
    status_code=201,
    response_model=EndpointWithSecret,
    responses=_ERRORS,
    summary="Register a webhook endpoint (the signing secret is returned this once)",
)
async def create_endpoint(body: EndpointCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            created = webhook_endpoints.create_endpoint(
                db,
                who.scope,
                url=body.url,
                enabled_events=body.enabledEvents,
                description=body.description,
                actor=who.actor,
            )
        return 201, _with_secret(created)

    return await respond(request, who, work)


@router.get(
    "/webhook_endpoints",
    response_model=EndpointList,
    responses=without(_READ_ERRORS, 404),
    summary="List webhook endpoints",
)
async def list_endpoints(who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            found = webhook_endpoints.list_endpoints(db, who.scope)
            return {"success": True, "endpoints": [endpoint_to_dict(e) for e in found]}

    return await run_read(read)


@router.get(
    "/webhook_endpoints/{endpointId}",
    response_model=EndpointEnvelope,
    responses=_READ_ERRORS,
    summary="Get a webhook endpoint",
)
async def get_endpoint(endpointId: EndpointId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            endpoint = webhook_endpoints.get_endpoint(db, who.scope, endpointId)
            return {"success": True, "endpoint": endpoint_to_dict(endpoint)}

    return await run_read(read)


@router.post(
    "/webhook_endpoints/{endpointId}",
    response_model=EndpointEnvelope,
    responses=_ERRORS,
    summary="Update a webhook endpoint (URL, events, description, disabled)",
)
async def update_endpoint(
    endpointId: EndpointId, body: EndpointUpdate, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            endpoint = webhook_endpoints.update_endpoint(
                db,
                who.scope,
                endpointId,
                url=body.url,
                enabled_events=body.enabledEvents,
                description=body.description,
                disabled=body.disabled,
                actor=who.actor,
            )
        return 200, {"success": True, "endpoint": endpoint_to_dict(endpoint)}

    return await respond(request, who, work)


@router.delete(
    "/webhook_endpoints/{endpointId}",
    response_model=Deleted,
    responses=only(_ERRORS, 400, 401, 404, 409, 429),
    summary="Delete a webhook endpoint and its delivery log",
)
async def delete_endpoint(endpointId: EndpointId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            webhook_endpoints.delete_endpoint(db, who.scope, endpointId, actor=who.actor)
        return 200, {"success": True, "id": endpointId, "deleted": True}

    return await respond(request, who, work)


@router.post(
    "/webhook_endpoints/{endpointId}/roll_secret",
    response_model=EndpointWithSecret,
    responses=_ERRORS,
    summary="Roll the signing secret; the old one keeps signing for expiresInHours",
)
async def roll_secret(
    endpointId: EndpointId,
    request: Request,
    who: CallerDep,
    body: RollSecretBody | None = None,
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            rolled = webhook_endpoints.roll_secret(
                db,
                who.scope,
                endpointId,
                overlap_hours=body.expiresInHours if body else 24,
                actor=who.actor,
            )
        return 200, _with_secret(rolled)

    return await respond(request, who, work)


@router.post(
    "/webhook_endpoints/{endpointId}/test",
    response_model=DeliveryEnvelope,
    responses=_ERRORS,
    summary="Send a webhook.test event to this endpoint",
)
async def send_test_event(endpointId: EndpointId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            delivery = webhook_deliveries.send_test_event(db, who.scope, endpointId)
        outbound.enqueue_deliveries([delivery.id])
        body = delivery_to_dict(delivery, webhook_deliveries.TEST_EVENT_TYPE)
        return 200, {"success": True, "delivery": body}

    return await respond(request, who, work)


@router.get(
    "/webhook_endpoints/{endpointId}/deliveries",
    response_model=DeliveryLog,
    responses=_READ_ERRORS,
    summary="The endpoint's delivery log, newest first, with every attempt",
)
async def delivery_log(
    endpointId: EndpointId,
    who: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = webhook_deliveries.delivery_log(
                db, who.scope, endpointId, limit=limit, cursor=cursor
            )
            deliveries = [delivery_to_dict(x.delivery, x.event_type, x.attempts) for x in page]
        return {"success": True, "deliveries": deliveries, "nextCursor": next_cursor}

    return await run_read(read)


@router.post(
    "/webhook_deliveries/{deliveryId}/redeliver",
    response_model=DeliveryEnvelope,
    responses=_ERRORS,
    summary="Deliver a failed (or waiting) delivery again now",
)
async def redeliver(deliveryId: DeliveryId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            delivery = webhook_deliveries.redeliver(db, who.scope, deliveryId)
            body = webhook_deliveries.delivery_view(db, delivery)
        outbound.enqueue_deliveries([delivery.id])
        return 200, {"success": True, "delivery": body}

    return await respond(request, who, work)


@router.post(
    "/webhook_endpoints/{endpointId}/redeliver_failed",
    response_model=Redelivered,
    responses=_ERRORS,
    summary="Deliver again every failed delivery of the endpoint since a time",
)
async def redeliver_failed(
    endpointId: EndpointId, body: RedeliverFailedBody, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            count = webhook_deliveries.redeliver_failed(db, who.scope, endpointId, body.since)
        if count:
            outbound.enqueue_sweep()
        return 200, {"success": True, "redelivered": count}

    return await respond(request, who, work)
