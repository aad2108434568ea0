"""Inbound PayPal webhooks: POST /api/webhooks/paypal/{processor_id}.

No API key: PayPal signs each delivery, and PayPal itself confirms the signature
(services.webhooks.inbound.paypal_receive). Then, as for Stripe, the event is stored and
enqueued and the answer is immediate; the job runner applies it. PayPal retries any non-2xx
answer for three days, so a refusal or a 503 while PayPal cannot be asked loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError

from backend.api import input_hygiene
from backend.api.errors import ErrorBody, error_response
from backend.api.responses import JSONResponse
from backend.api.routes.webhooks_stripe import WebhookAck, store_verified
from backend.gateways.base import GatewayUnavailable
from backend.services.webhooks.inbound import paypal_receive

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
PATH = "/api/webhooks/paypal/"  # bodies checked in the route, before PayPal is asked

_HEADERS = [
    {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
    for name in (
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    )
]
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "A PayPal webhook event, exactly as PayPal sent it",
                "required": ["id", "event_type", "create_time", "resource"],
            }
        }
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "Missing PAYPAL-* headers, a signature PayPal does not confirm, or a "
        "body that is not a JSON PayPal event",
    },
    404: {"model": ErrorBody, "description": "No PayPal processor with a webhook ID has this id"},
    413: {"model": ErrorBody, "description": "The body is larger than 1 MB"},
    503: {
        "model": ErrorBody,
        "description": "PayPal could not confirm the event, or it could "
        "not be stored: PayPal sends it again",
    },
}


@router.post(
    "/paypal/{processor_id}",
    response_model=WebhookAck,
    responses=_RESPONSES,
    summary="Receive a PayPal event for one PayPal processor",
    description="Verified with PayPal's verify-webhook-signature call for the processor's "
    "webhook ID, stored and acknowledged; processed in the background. A repeated event id is "
    "acknowledged and changes nothing.",
    openapi_extra={"requestBody": _BODY, "parameters": _HEADERS},
)
async def paypal_webhook(processor_id: str, request: Request) -> JSONResponse:
    body = await request.body()
    # Unclean text is refused before PayPal is asked anything (and never stored).
    problem = input_hygiene.json_problem(body)
    if problem is not None:
        return problem.response()
    try:
        event = await asyncio.to_thread(paypal_receive.verify, processor_id, request.headers, body)
    except paypal_receive.UnknownProcessor:
        return error_response(
            404, "resource_missing", "No PayPal processor with a webhook ID has this id"
        )
    except paypal_receive.WebhookRejected as exc:
        return error_response(400, exc.code, exc.message)
    except GatewayUnavailable as exc:
        log.warning("paypal webhook for %s not verified: %s", processor_id[:64], exc.code)
        return error_response(503, "verification_unavailable", "PayPal could not be asked")
    except SQLAlchemyError:
        log.exception("could not read the processor of a paypal webhook")
        return error_response(503, "storage_unavailable", "The processor could not be read")
    try:
        stored = await store_verified(event)
    except SQLAlchemyError:
        log.exception("could not store paypal webhook event %s", event.event_id)
        return error_response(503, "storage_unavailable", "The event could not be stored")
    return JSONResponse(
        {"success": True, "received": True, "duplicate": not stored, "eventId": event.event_id}
    )
