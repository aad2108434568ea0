"""Customers and their saved cards: create, list and search, read, update (the default card
too), delete; save a card, list the saved cards, detach one.

A saved card is charged later by the billing engine (backend.services.payments.charges.
charge_saved_method); there is no route to charge one yet.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from sqlmodel import Session

from backend.api.deps import CallerDep, Result, respond_atomic
from backend.api.errors import ErrorBody, error_responses, only
from backend.api.responses import JSONResponse
from backend.api.schemas import PaymentMethodIn
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.services.customers import payment_methods, records
from backend.services.representations import customer_to_dict, payment_method_to_dict

router = APIRouter(prefix="/api", tags=["customers"])

_ERRORS = error_responses(
    {
        404: "No such customer or card for this merchant and mode",
        409: "An Idempotency-Key conflict",
        422: "A value is not acceptable (e-mail, country...)",
    }
)
_READ_ERRORS = only(_ERRORS, 400, 401, 404, 422, 429)
_SAVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    402: {"model": ErrorBody, "description": "The card issuer refused to save the card"},
    503: {"model": ErrorBody, "description": "The processor could not be reached; nothing saved"},
}
CustomerId = Annotated[
    str, Path(min_length=1, max_length=64, description="A customer id (cus_...)")
]
PaymentMethodId = Annotated[
    str, Path(min_length=1, max_length=64, description="A saved card's id (pm_...)")
]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="`nextCursor` of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1 to 100)")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_Strict):
    line1: StrictStr | None = Field(None, max_length=200)
    line2: StrictStr | None = Field(None, max_length=200)
    city: StrictStr | None = Field(None, max_length=100)
    state: StrictStr | None = Field(None, max_length=100)
    postalCode: StrictStr | None = Field(None, max_length=20)
    country: StrictStr | None = Field(
        None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["US"]
    )

    def value(self) -> records.Address:
        return records.Address(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.state,
            postal_code=self.postalCode,
            country=self.country,
        )


class CustomerCreate(_Strict):
    email: StrictStr = Field(max_length=320, examples=["ada@example.com"])
    name: StrictStr | None = Field(None, max_length=200)
    phone: StrictStr | None = Field(None, max_length=32)
    address: AddressIn | None = None
    metadata: dict[str, StrictStr] | None = None
    testClock: StrictStr | None = Field(
        None,
        max_length=40,
        description="A test clock's id (test mode): the customer lives at its time",
    )


class CustomerUpdate(_Strict):
    """Only the fields given change; null clears name, phone, address or the default card."""

    email: StrictStr | None = Field(None, max_length=320)
    name: StrictStr | None = Field(None, max_length=200)
    phone: StrictStr | None = Field(None, max_length=32)
    address: AddressIn | None = None
    metadata: dict[str, StrictStr] | None = Field(None, description="Replaces the metadata")
    defaultPaymentMethod: StrictStr | None = Field(
        None, max_length=64, description="One of the customer's saved cards (pm_...), or null"
    )


class PaymentMethodCreate(PaymentMethodIn):
    gatewayType: Literal["sandbox", "stripe"] | None = Field(
        None, description="The processor to save the card at (default: routing's first)"
    )


class AddressOut(BaseModel):
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postalCode: str | None
    country: str | None


class CustomerOut(BaseModel):
    id: str
    object: Literal["customer"]
    livemode: bool
    email: str | None
    name: str | None
    phone: str | None
    address: AddressOut | None
    defaultPaymentMethod: str | None = Field(description="The saved card charged by default")
    testClock: str | None = Field(None, description="The test clock it lives on, if any")
    metadata: dict[str, str]
    createdAt: str
    updatedAt: str
    deleted: bool


class CustomerEnvelope(BaseModel):
    success: bool
    customer: CustomerOut


class CustomerList(BaseModel):
    success: bool
    customers: list[CustomerOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class Deleted(BaseModel):
    success: bool
    id: str
    deleted: bool


class CardOut(BaseModel):
    brand: str | None
    last4: str | None
    expMonth: int | None
    expYear: int | None
    country: str | None


class SavedMethodOut(BaseModel):
    id: str
    object: Literal["payment_method"]
    livemode: bool
    customer: str
    type: Literal["card"]
    card: CardOut
    gatewayType: str
    authenticationRequired: bool = Field(
        description="The issuer asks the customer to authenticate every charge, off session too"
    )
    createdAt: str
    detachedAt: str | None


class SavedMethodEnvelope(BaseModel):
    success: bool
    paymentMethod: SavedMethodOut


class SavedMethodList(BaseModel):
    success: bool
    paymentMethods: list[SavedMethodOut]
    nextCursor: str | None


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerEnvelope,
    responses=_ERRORS,
    summary="Create a customer",
)
async def create_customer(body: CustomerCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work(db: Session) -> Result:
        customer = records.create_customer(
            db,
            who.scope,
            email=body.email,
            name=body.name,
            phone=body.phone,
            address=body.address.value() if body.address else None,
            metadata=body.metadata,
            test_clock=body.testClock,
            actor=who.actor,
        )
        return 201, {"success": True, "customer": customer_to_dict(customer)}

    return await respond_atomic(request, who, work)


@router.get(
    "/customers",
    response_model=CustomerList,
    responses=_READ_ERRORS,
    summary="Customers, newest first; search by the start of an e-mail or name",
)
async def list_customers(
    who: CallerDep,
    email: Annotated[str | None, Query(min_length=1, max_length=320, description="Exact")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Start of an e-mail or a name, or an id"),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = records.search_customers(
                db, who.scope, query=q or "", email=email, limit=limit, cursor=cursor
            )
        return {
            "success": True,
            "customers": [customer_to_dict(c) for c in page],
            "nextCursor": next_cursor,
        }

    return await run_read(read)


@router.get(
    "/customers/{customerId}",
    response_model=CustomerEnvelope,
    responses=_READ_ERRORS,
    summary="Get a customer (a deleted one is not found)",
)
async def get_customer(customerId: CustomerId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            found = records.get_customer(db, who.scope, customerId)
            return {"success": True, "customer": customer_to_dict(found)}

    return await run_read(read)


@router.post(
    "/customers/{customerId}",
    response_model=CustomerEnvelope,
    responses=_ERRORS,
    summary="Update a customer: only the fields given change; defaultPaymentMethod too",
)
async def update_customer(
    customerId: CustomerId, body: CustomerUpdate, request: Request, who: CallerDep
) -> JSONResponse:
    given = body.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("email", "name", "phone", "metadata")
        if name in given
    }
    if "address" in given:
        changes["address"] = body.address.value() if body.address else None
    if "defaultPaymentMethod" in given:
        changes["default_payment_method"] = body.defaultPaymentMethod

    def work(db: Session) -> Result:
        customer = records.update_customer(db, who.scope, customerId, actor=who.actor, **changes)
        return 200, {"success": True, "customer": customer_to_dict(customer)}

    return await respond_atomic(request, who, work)


@router.delete(
    "/customers/{customerId}",
    response_model=Deleted,
    responses=_ERRORS,
    summary="Delete a customer (its saved cards are detached; its payments stay)",
)
async def delete_customer(customerId: CustomerId, request: Request, who: CallerDep) -> JSONResponse:
    def work(db: Session) -> Result:
        records.delete_customer(db, who.scope, customerId, actor=who.actor)
        return 200, {"success": True, "id": customerId, "deleted": True}

    return await respond_atomic(request, who, work)


@router.post(
    "/customers/{customerId}/payment_methods",
    status_code=201,
    response_model=SavedMethodEnvelope,
    responses=_SAVE_ERRORS,
    summary="Save a card for the customer, to be charged later without them (off session)",
)
async def attach_payment_method(
    customerId: CustomerId, body: PaymentMethodCreate, request: Request, who: CallerDep
) -> JSONResponse:
    def work(db: Session) -> Result:
        outcome = payment_methods.attach(
            db,
            who.scope,
            customerId,
            type=body.type,
            token=body.token,
            gateway_type=body.gatewayType,
            idempotency_key=request.headers.get("idempotency-key"),
            actor=who.actor,
        )
        if outcome.payment_method is None:
            error = {"code": outcome.error_code, "message": outcome.error_message}
            error |= {"param": "token", "declineCode": outcome.decline_code}
            return 402, {"success": False, "error": error}
        return 201, {
            "success": True,
            "paymentMethod": payment_method_to_dict(outcome.payment_method),
        }

    return await respond_atomic(request, who, work)


@router.get(
    "/customers/{customerId}/payment_methods",
    response_model=SavedMethodList,
    responses=_READ_ERRORS,
    summary="The customer's saved cards, newest first",
)
async def list_payment_methods(
    customerId: CustomerId, who: CallerDep, limit: Limit = 20, cursor: Cursor = None
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = payment_methods.list_methods(
                db, who.scope, customerId, limit=limit, cursor=cursor
            )
        return {
            "success": True,
            "paymentMethods": [payment_method_to_dict(m) for m in page],
            "nextCursor": next_cursor,
        }

    return await run_read(read)


@router.delete(
    "/customers/{customerId}/payment_methods/{paymentMethodId}",
    response_model=SavedMethodEnvelope,
    responses={**_ERRORS, 503: _SAVE_ERRORS[503]},
    summary="Detach a saved card: it can no longer be charged",
)
async def detach_payment_method(
    customerId: CustomerId, paymentMethodId: PaymentMethodId, request: Request, who: CallerDep
) -> JSONResponse:
    def work(db: Session) -> Result:
        method = payment_methods.detach(db, who.scope, customerId, paymentMethodId, actor=who.actor)
        return 200, {"success": True, "paymentMethod": payment_method_to_dict(method)}

    return await respond_atomic(request, who, work)
