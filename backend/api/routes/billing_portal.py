"""Billing portal sessions: a signed link, valid for 24 hours, that opens a customer's billing
portal (update the card, see and download invoices, pay an open one, cancel if allowed).
The link is shown once, in the answer: only a hash of its secret is kept."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from sqlmodel import Session

from backend.api.deps import CallerDep, Result, respond_atomic
from backend.api.errors import error_responses
from backend.api.responses import JSONResponse
from backend.services.billing import portal_sessions

router = APIRouter(prefix="/api", tags=["billing portal"])

_ERRORS = error_responses(
    {
        404: "No such customer for this merchant and mode",
        409: "An Idempotency-Key conflict",
        422: "returnUrl is not an absolute http(s) URL",
    }
)


class PortalSessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customerId: StrictStr = Field(min_length=1, max_length=64, examples=["cus_..."])
    returnUrl: StrictStr | None = Field(
        None,
        max_length=2000,
        description="Where the portal's “Return to …” link leads (absolute http(s) URL)",
        examples=["https://shop.example/account"],
    )


class PortalSessionOut(BaseModel):
    id: str
    object: Literal["billing_portal.session"]
    livemode: bool
    url: str = Field(description="The customer's link; shown only in this answer")
    customerId: str
    returnUrl: str | None
    expiresAt: str
    createdAt: str


class PortalSessionEnvelope(BaseModel):
    success: bool
    session: PortalSessionOut


@router.post(
    "/billing_portal/sessions",
    status_code=201,
    response_model=PortalSessionEnvelope,
    responses=_ERRORS,
    summary="Create a customer's billing portal link (valid 24 hours)",
)
async def create_portal_session(
    body: PortalSessionCreate, request: Request, who: CallerDep
) -> JSONResponse:
    def work(db: Session) -> Result:
        session, url = portal_sessions.create_session(
            db, who.scope, body.customerId, body.returnUrl, actor=who.actor
        )
        return 201, {"success": True, "session": portal_sessions.session_to_dict(session, url)}

    return await respond_atomic(request, who, work)
