"""Checkout sessions (merchant API) and the merchants' checkout logos (public, cacheable)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from backend.api.deps import CallerDep, Result, respond
from backend.api.errors import ErrorBody, error_responses, only
from backend.api.responses import JSONResponse
from backend.core.db import session_scope
from backend.core.errors import NotFound
from backend.core.read_threads import run_read
from backend.models import BrandLogo
from backend.services.checkout import branding, session_state, sessions

router = APIRouter(prefix="/api", tags=["checkout"])

_ERRORS = error_responses(
    {
        404: "No such checkout session for this merchant and mode",
        409: "Illegal state change or Idempotency-Key conflict",
    },
    400,
    401,
    404,
    409,
    422,
    429,
)
SessionId = Annotated[str, Path(min_length=1, max_length=40, description="A session id (cs_...)")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineItemIn(_Strict):
    name: StrictStr = Field(min_length=1, max_length=120)
    quantity: StrictInt = Field(1, ge=1, le=sessions.MAX_QUANTITY)
    unitAmountCents: StrictInt = Field(description="Price of one unit in minor units")


class SessionCreate(_Strict):
    lineItems: list[LineItemIn] | None = Field(None, max_length=sessions.MAX_LINE_ITEMS)
    amountCents: StrictInt | None = Field(None, description="Instead of lineItems: one amount")
    currency: StrictStr = Field(examples=["USD"])
    customerEmail: StrictStr | None = Field(None, max_length=320)
    successUrl: StrictStr = Field(max_length=sessions.MAX_URL_LENGTH)
    cancelUrl: StrictStr = Field(max_length=sessions.MAX_URL_LENGTH)
    expiresAt: datetime | None = Field(
        None, description="ISO 8601 with a zone, or Unix seconds; 30 min to 7 days (default 24 h)"
    )
    metadata: dict[str, StrictStr] | None = None
    paymentMethods: list[Literal["card", "paypal", "bank"]] | None = Field(None, max_length=3)
    savePaymentMethod: StrictBool = Field(
        False,
        description="Offer “save this card for future payments” (with the merchant's consent "
        "text); a card the customer saves is kept for the session's customer",
    )


class SessionOut(BaseModel):
    id: str
    object: Literal["checkout.session"]
    livemode: bool
    url: str
    status: Literal["open", "complete", "expired"]
    amountTotal: int
    currency: str
    lineItems: list[dict[str, Any]]
    customerEmail: str | None
    successUrl: str | None
    cancelUrl: str | None
    paymentMethods: list[str]
    savePaymentMethod: bool
    orderId: str
    paymentId: str | None
    paymentLinkId: str | None
    metadata: dict[str, str]
    expiresAt: str
    createdAt: str
    completedAt: str | None


class SessionEnvelope(BaseModel):
    success: Literal[True] = True
    session: SessionOut


def _answer(session_obj: Any, status: int = 200) -> Result:
    return status, {"success": True, "session": session_state.session_to_dict(session_obj)}


@router.post(
    "/checkout/sessions",
    status_code=201,
    response_model=SessionEnvelope,
    responses=_ERRORS,
    summary="Create a checkout session (a hosted payment page)",
)
async def create_session(body: SessionCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            created = sessions.create_session(
                db,
                who.scope,
                line_items=(
                    [item.model_dump() for item in body.lineItems]
                    if body.lineItems is not None
                    else None
                ),
                amount=body.amountCents,
                currency=body.currency,
                customer_email=body.customerEmail,
                success_url=body.successUrl,
                cancel_url=body.cancelUrl,
                expires_at=body.expiresAt,
                metadata=body.metadata,
                payment_methods=body.paymentMethods,
                save_payment_method=body.savePaymentMethod,
                actor=who.actor,
            )
        return _answer(created, 201)

    return await respond(request, who, work)


@router.get(
    "/checkout/sessions/{sessionId}",
    response_model=SessionEnvelope,
    responses=only(_ERRORS, 401, 404, 429),
    summary="Get a checkout session",
)
async def get_session(sessionId: SessionId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        # A read that may write: an expiry time that has passed expires the session now.
        with session_scope() as db:
            found = sessions.get_session(db, who.scope, sessionId)
        return _answer(found)

    return await respond(request, who, work)


@router.post(
    "/checkout/sessions/{sessionId}/expire",
    response_model=SessionEnvelope,
    responses=_ERRORS,
    summary="Expire an open checkout session now",
)
async def expire_session(sessionId: SessionId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            ended = sessions.expire_session(db, who.scope, sessionId, actor=who.actor)
        return _answer(ended)

    return await respond(request, who, work)


@router.get(
    "/checkout/logos/{logoId}",
    tags=["checkout"],
    summary="A merchant's checkout logo (public; immutable, cache forever)",
    responses={404: {"model": ErrorBody}},
)
async def logo(
    logoId: Annotated[str, Path(min_length=1, max_length=60)],
) -> Response:
    def read() -> BrandLogo | None:
        with session_scope(readonly=True) as db:
            return branding.get_logo(db, logoId.split(".", 1)[0])

    found = await run_read(read)
    if found is None:
        raise NotFound("No such logo")
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
