"""Inbound webhooks: POST /api/webhooks/stripe (the platform's Stripe account), POST
/api/webhooks/stripe/{processor_id} (a merchant's own Stripe account, set up on its processor)
and GET /api/webhooks/health.

No API key here: Stripe signs each request instead. The endpoint does the least that makes the
event safe (verify, INSERT, enqueue) and answers at once; the worker does the rest. Stripe
retries any non-2xx answer for days, so refusing a request loses nothing genuine.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from backend.api import input_hygiene
from backend.api.errors import ErrorBody, error_response
from backend.api.responses import JSONResponse
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.group_commit import BatchWriter
from backend.core.read_threads import run_read
from backend.services.payments import gateway_configs
from backend.services.webhooks.inbound import queue, receive

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
PATH = "/api/webhooks/stripe"  # and /{processor_id}: bodies checked here, after the signature


class WebhookAck(BaseModel):
    success: bool = True
    received: bool = True
    duplicate: bool = Field(description="True when this event id had been received before")
    eventId: str


class WebhookSummary(BaseModel):
    stripe: Literal["active", "not_configured"]
    paypal: Literal["per_processor"] = "per_processor"


class WebhookHealth(BaseModel):
    success: bool = True
    status: Literal["healthy", "degraded"]
    webhooks: WebhookSummary
    backlog: int = Field(description="Events stored and not yet processed (pending or failed)")
    oldestUnprocessedSeconds: int | None = Field(description="Age of the oldest of them")
    failuresLastHour: int = Field(description="Events awaiting a retry or dead-lettered")
    degradedReasons: list[str] = Field(default_factory=list)


_EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "A Stripe event, exactly as Stripe sent and signed it",
                "required": ["id", "type", "created", "data"],
                "properties": {
                    "id": {"type": "string", "examples": ["evt_1"]},
                    "type": {"type": "string", "examples": ["payment_intent.succeeded"]},
                    "created": {"type": "integer"},
                    "livemode": {"type": "boolean"},
                    "data": {"type": "object"},
                },
            }
        }
    },
}
_SIGNATURE_HEADER = {
    "name": "Stripe-Signature",
    "in": "header",
    "required": False,  # checked by the endpoint, which answers 400 when it is missing
    "schema": {"type": "string"},
    "description": "t=<unix time>,v1=<HMAC-SHA256 hex>[,v1=...]",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "Missing or invalid Stripe-Signature, a timestamp outside the "
        "tolerance, a body that is not a JSON Stripe event (or holds NUL, lone surrogates or "
        "control characters, or nests over 32 levels), or no signing secret configured",
    },
    413: {"model": ErrorBody, "description": "The body is larger than 1 MB"},
    503: {"model": ErrorBody, "description": "The database could not store the event"},
}


@router.post(
    "/stripe",
    response_model=WebhookAck,
    responses=_RESPONSES,
    summary="Receive a Stripe event",
    description="Verifies the Stripe-Signature header (HMAC-SHA256, 300 s tolerance; every "
    "configured secret is tried, for rotation), stores the event and acknowledges it; it is "
    "processed in the background. A repeated event id is acknowledged and changes nothing.",
    # Documented here rather than declared as parameters: the endpoint reads the raw body and
    # one header itself, which keeps FastAPI's per-request validation off the hot path.
    openapi_extra={"requestBody": _EVENT_BODY, "parameters": [_SIGNATURE_HEADER]},
)
async def stripe_webhook(request: Request) -> JSONResponse:
    secrets = receive.signing_secrets(get_settings().stripe_webhook_secret)
    if not secrets:  # nothing can be verified; Stripe keeps the event and retries
        return error_response(
            400,
            "webhooks_not_configured",
            "No Stripe signing secret is configured on this server (STRIPE_WEBHOOK_SECRET)",
        )
    return await _receive(request, secrets, None)


@router.post(
    "/stripe/{processor_id}",
    response_model=WebhookAck,
    responses={
        **_RESPONSES,
        404: {"model": ErrorBody, "description": "No processor with a signing secret has this id"},
    },
    summary="Receive an event from a merchant's own Stripe account",
    description="For a Stripe processor set up with the merchant's own key: verified with that "
    "processor's signing secret, and applied only to payments that processor took. The event's "
    "livemode must match the processor's mode.",
    openapi_extra={"requestBody": _EVENT_BODY, "parameters": [_SIGNATURE_HEADER]},
)
async def stripe_account_webhook(processor_id: str, request: Request) -> JSONResponse:
    source = await run_read(_webhook_source, processor_id[:64])
    if source is None:
        return error_response(
            404,
            "resource_missing",
            "No Stripe processor with a signing secret has this id",
        )
    config_id, secrets, livemode = source
    return await _receive(request, secrets, config_id, livemode=livemode)


def _webhook_source(processor_id: str) -> tuple[str, list[str], bool] | None:
    with session_scope(readonly=True) as db:
        config = gateway_configs.webhook_source(db, processor_id)
        if config is None:
            return None
        return config.id, gateway_configs.webhook_secrets(config), config.livemode


async def _receive(
    request: Request, secrets: list[str], source: str | None, *, livemode: bool | None = None
) -> JSONResponse:
    body = await request.body()
    try:
        event = receive.verify(
            body, request.headers.get("stripe-signature"), secrets, source=source
        )
    except receive.SignatureError as exc:
        return error_response(400, exc.code, exc.message)
    # Signed, so Stripe sent it; still refused, and never stored, unless it is clean text.
    problem = input_hygiene.json_problem(event.payload)
    if problem is not None:
        return problem.response()
    if livemode is not None and event.livemode != livemode:
        mode = "live" if livemode else "test"
        return error_response(
            400, "livemode_mismatch", f"This endpoint takes {mode}-mode events only"
        )
    try:
        stored = await _writer.store(event)
    except SQLAlchemyError:
        log.exception("could not store webhook event %s", event.event_id)
        return error_response(503, "storage_unavailable", "The event could not be stored")
    return JSONResponse(
        {"success": True, "received": True, "duplicate": not stored, "eventId": event.event_id}
    )


class EventWriter(BatchWriter[tuple[receive.VerifiedEvent, Future[bool]]]):
    """Stores the events of concurrent requests in one transaction and enqueues them as one task.

    Every write transaction takes the database's write lock (SQLite has one per file), so one
    transaction per request would cap the endpoint at the database's transaction rate. One
    thread per process (backend.core.group_commit.BatchWriter) writes whatever arrived while its
    previous commit ran: a lone request is a batch of one (no timer, no added wait), a burst
    shares one commit. Each request still answers only after its own event is committed and
    enqueued.
    """

    MAX_BATCH = 500

    def __init__(self) -> None:
        super().__init__(self.MAX_BATCH, "webhook-writer")

    async def store(self, event: receive.VerifiedEvent) -> bool:
        """True once the event is stored, False when its id was already; raises what the
        database raised."""
        future: Future[bool] = Future()
        self.put((event, future))
        return await asyncio.wrap_future(future)

    def write_batch(self, batch: list[tuple[receive.VerifiedEvent, Future[bool]]]) -> None:
        # Every event taken is stored, even one whose request went away meanwhile (cancelled).
        waiting = [future.set_running_or_notify_cancel() for _, future in batch]
        try:
            answers = self._store([event for event, _ in batch])
        except Exception as exc:  # never leave a request waiting
            log.exception("webhook writer failed")
            answers = [exc] * len(batch)
        for (_, future), wanted, answer in zip(batch, waiting, answers, strict=True):
            if not wanted:
                continue
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    def _store(self, events: list[receive.VerifiedEvent]) -> list[bool | Exception]:
        """For each event: stored (True), already there (False), or what the database raised."""
        from backend.tasks.inbound import process_events

        try:
            ids = receive.store_many(events)
        except Exception as exc:
            return [exc] * len(events)
        stored = [event_pk for event_pk in ids if event_pk is not None]
        if stored:
            try:
                process_events(stored)
            except Exception:  # stored is what matters: the sweep enqueues them within a minute
                log.exception("could not enqueue %d webhook events", len(stored))
        return [event_pk is not None for event_pk in ids]


_writer = EventWriter()


async def store_verified(event: receive.VerifiedEvent) -> bool:
    """Store and enqueue a verified event of any provider (PayPal's too): True when new."""
    return await _writer.store(event)


@router.get(
    "/health",
    response_model=WebhookHealth,
    summary="Inbound webhook health",
    description='"degraded" when the backlog, the age of its oldest event or the failures of '
    "the last hour pass their thresholds.",
)
async def webhooks_health() -> JSONResponse:
    figures = await run_read(queue.health)
    configured = bool(receive.signing_secrets(get_settings().stripe_webhook_secret))
    body = WebhookHealth(
        status=figures.status,  # type: ignore[arg-type]
        webhooks=WebhookSummary(stripe="active" if configured else "not_configured"),
        backlog=figures.backlog,
        oldestUnprocessedSeconds=figures.oldest_unprocessed_seconds,
        failuresLastHour=figures.failures_last_hour,
        degradedReasons=list(figures.reasons),
    )
    return JSONResponse(body.model_dump())
