"""Billing's catalogue and test clocks: products, prices (one-time or recurring) and, in test mode
only, test clocks that freeze and advance billing's time (backend/services/billing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from backend.api.deps import CallerDep, Result, respond
from backend.api.errors import ErrorBody, error_responses, only, without
from backend.api.responses import JSONResponse
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.services.billing import catalogue, clock
from backend.services.billing.periods import Recurrence
from backend.services.billing.representations import (
    clock_to_dict,
    price_to_dict,
    product_to_dict,
)

router = APIRouter(prefix="/api", tags=["billing"])

_ERRORS = error_responses(
    {
        409: "An archived product or price, or an Idempotency-Key conflict",
        422: "A value is not acceptable (currency, amount...)",
    }
)
_READ_ERRORS = only(_ERRORS, 400, 401, 404, 422, 429)
_LIST_ERRORS = without(_READ_ERRORS, 404)
_TEST_ONLY = {403: {"model": ErrorBody, "description": "A live key: test clocks are test-only"}}
_CLOCK_ERRORS = {**_ERRORS, **_TEST_ONLY}
_CLOCK_READ_ERRORS = {**_READ_ERRORS, **_TEST_ONLY}

ProductId = Annotated[str, Path(min_length=1, max_length=64, description="A product (prod_...)")]
PriceId = Annotated[str, Path(min_length=1, max_length=64, description="A price (price_...)")]
ClockId = Annotated[str, Path(min_length=1, max_length=64, description="A test clock (clock_...)")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="`nextCursor` of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1 to 100)")]
Metadata = dict[StrictStr, StrictStr]
UnixSeconds = Annotated[
    StrictInt,
    Field(
        ge=clock.EARLIEST,
        le=clock.LATEST,
        description="Unix time in seconds (2000-01-01 to 2100-01-01)",
        examples=[1_767_225_600],
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductCreate(_Strict):
    name: StrictStr = Field(min_length=1, max_length=catalogue.NAME_MAX, examples=["Pro plan"])
    description: StrictStr | None = Field(None, max_length=catalogue.DESCRIPTION_MAX)
    active: StrictBool = True
    metadata: Metadata | None = None


class ProductUpdate(_Strict):
    name: StrictStr | None = Field(None, min_length=1, max_length=catalogue.NAME_MAX)
    description: StrictStr | None = Field(
        None, max_length=catalogue.DESCRIPTION_MAX, description='"" removes it'
    )
    active: StrictBool | None = Field(None, description="false archives the product")
    metadata: Metadata | None = Field(
        None, description='Merged into the current metadata; a key set to "" is removed'
    )


class RecurringIn(_Strict):
    interval: Literal["day", "week", "month", "year"]
    intervalCount: StrictInt = Field(
        1, ge=1, le=365, description="Bill every this many intervals (at most one year in all)"
    )


class PriceCreate(_Strict):
    productId: StrictStr = Field(min_length=1, max_length=64)
    unitAmountCents: StrictInt = Field(
        ge=0, le=catalogue.MAX_AMOUNT, description="In the currency's minor unit (0: free)"
    )
    currency: StrictStr = Field(min_length=3, max_length=3, examples=["USD"])
    recurring: RecurringIn | None = Field(None, description="Omit for a one-time price")
    nickname: StrictStr | None = Field(None, max_length=catalogue.NICKNAME_MAX)
    active: StrictBool = True
    metadata: Metadata | None = None


class PriceUpdate(_Strict):
    active: StrictBool | None = Field(None, description="false archives the price")
    nickname: StrictStr | None = Field(
        None, max_length=catalogue.NICKNAME_MAX, description='"" removes it'
    )
    metadata: Metadata | None = Field(
        None, description='Merged into the current metadata; a key set to "" is removed'
    )


class ClockCreate(_Strict):
    frozenTime: UnixSeconds
    name: StrictStr | None = Field(None, max_length=clock.NAME_MAX)


class ClockAdvance(_Strict):
    frozenTime: UnixSeconds = Field(description="After the clock's current time")


class ProductOut(BaseModel):
    id: str
    object: Literal["product"]
    livemode: bool
    name: str
    description: str | None
    active: bool
    metadata: dict[str, str]
    createdAt: str
    updatedAt: str


class RecurringOut(BaseModel):
    interval: Literal["day", "week", "month", "year"]
    intervalCount: int


class PriceOut(BaseModel):
    id: str
    object: Literal["price"]
    livemode: bool
    productId: str
    unitAmountCents: int
    currency: str
    type: Literal["one_time", "recurring"]
    recurring: RecurringOut | None
    active: bool
    nickname: str | None
    metadata: dict[str, str]
    createdAt: str
    updatedAt: str


class ClockOut(BaseModel):
    id: str
    object: Literal["test_clock"]
    livemode: bool
    name: str | None
    frozenTime: int = Field(description="The clock's time, Unix seconds")
    status: Literal["ready", "advancing"]
    createdAt: str
    updatedAt: str


class ProductEnvelope(BaseModel):
    success: bool
    product: ProductOut


class ProductList(BaseModel):
    success: bool
    products: list[ProductOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class PriceEnvelope(BaseModel):
    success: bool
    price: PriceOut


class PriceList(BaseModel):
    success: bool
    prices: list[PriceOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class ClockEnvelope(BaseModel):
    success: bool
    testClock: ClockOut


class ClockList(BaseModel):
    success: bool
    testClocks: list[ClockOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class Deleted(BaseModel):
    success: bool
    id: str
    deleted: bool


# --- products -----------------------------------------------------------------------------------


@router.post(
    "/products",
    status_code=201,
    response_model=ProductEnvelope,
    responses=without(_ERRORS, 404),
    summary="Create a product",
)
async def create_product(body: ProductCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            product = catalogue.create_product(
                db,
                who.scope,
                name=body.name,
                description=body.description,
                active=body.active,
                metadata=body.metadata,
                actor=who.actor,
            )
            return 201, {"success": True, "product": product_to_dict(product)}

    return await respond(request, who, work)


@router.get(
    "/products",
    response_model=ProductList,
    responses=_LIST_ERRORS,
    summary="Products, newest first",
)
async def list_products(
    who: CallerDep,
    active: Annotated[bool | None, Query(description="Only active (or archived)")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = catalogue.list_products(
                db, who.scope, active=active, limit=limit, cursor=cursor
            )
            products = [product_to_dict(p) for p in page]
        return {"success": True, "products": products, "nextCursor": next_cursor}

    return await run_read(read)


@router.get(
    "/products/{productId}",
    response_model=ProductEnvelope,
    responses=_READ_ERRORS,
    summary="Get a product",
)
async def get_product(productId: ProductId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            product = catalogue.get_product(db, who.scope, productId)
            return {"success": True, "product": product_to_dict(product)}

    return await run_read(read)


@router.post(
    "/products/{productId}",
    response_model=ProductEnvelope,
    responses=_ERRORS,
    summary="Update a product (name, description, active, metadata)",
)
async def update_product(
    productId: ProductId, body: ProductUpdate, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            product = catalogue.update_product(
                db,
                who.scope,
                productId,
                name=body.name,
                description=body.description,
                active=body.active,
                metadata=body.metadata,
                actor=who.actor,
            )
            return 200, {"success": True, "product": product_to_dict(product)}

    return await respond(request, who, work)


# --- prices -------------------------------------------------------------------------------------


@router.post(
    "/prices",
    status_code=201,
    response_model=PriceEnvelope,
    responses=_ERRORS,
    summary="Create a price of a product: one-time, or recurring every intervalCount intervals",
)
async def create_price(body: PriceCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        recurring = (
            Recurrence.parse(body.recurring.interval, body.recurring.intervalCount)
            if body.recurring
            else None
        )
        with session_scope() as db:
            price = catalogue.create_price(
                db,
                who.scope,
                product_id=body.productId,
                unit_amount=body.unitAmountCents,
                currency=body.currency,
                recurring=recurring,
                nickname=body.nickname,
                metadata=body.metadata,
                active=body.active,
                actor=who.actor,
            )
            return 201, {"success": True, "price": price_to_dict(price)}

    return await respond(request, who, work)


@router.get(
    "/prices",
    response_model=PriceList,
    responses=_LIST_ERRORS,
    summary="Prices, newest first (of one product, active or archived, of a type or currency)",
)
async def list_prices(
    who: CallerDep,
    productId: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    active: Annotated[bool | None, Query(description="Only active (or archived)")] = None,
    type: Annotated[Literal["one_time", "recurring"] | None, Query()] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = catalogue.list_prices(
                db,
                who.scope,
                product_id=productId,
                active=active,
                type=type,
                currency=currency,
                limit=limit,
                cursor=cursor,
            )
            prices = [price_to_dict(p) for p in page]
        return {"success": True, "prices": prices, "nextCursor": next_cursor}

    return await run_read(read)


@router.get(
    "/prices/{priceId}",
    response_model=PriceEnvelope,
    responses=_READ_ERRORS,
    summary="Get a price",
)
async def get_price(priceId: PriceId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            price = catalogue.get_price(db, who.scope, priceId)
            return {"success": True, "price": price_to_dict(price)}

    return await run_read(read)


@router.post(
    "/prices/{priceId}",
    response_model=PriceEnvelope,
    responses=_ERRORS,
    summary="Update a price's active flag, nickname or metadata (its amount never changes)",
)
async def update_price(
    priceId: PriceId, body: PriceUpdate, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            price = catalogue.update_price(
                db,
                who.scope,
                priceId,
                active=body.active,
                nickname=body.nickname,
                metadata=body.metadata,
                actor=who.actor,
            )
            return 200, {"success": True, "price": price_to_dict(price)}

    return await respond(request, who, work)


# --- test clocks --------------------------------------------------------------------------------


@router.post(
    "/test_clocks",
    status_code=201,
    response_model=ClockEnvelope,
    responses=without(_CLOCK_ERRORS, 404),
    summary="Create a test clock at frozenTime (test mode only)",
)
async def create_clock(body: ClockCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            created = clock.create_clock(
                db, who.scope, frozen_time=body.frozenTime, name=body.name, actor=who.actor
            )
            return 201, {"success": True, "testClock": clock_to_dict(created)}

    return await respond(request, who, work)


@router.get(
    "/test_clocks",
    response_model=ClockList,
    responses=without(_CLOCK_READ_ERRORS, 404),
    summary="Test clocks, newest first (test mode only)",
)
async def list_clocks(who: CallerDep, limit: Limit = 20, cursor: Cursor = None) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = clock.list_clocks(db, who.scope, limit=limit, cursor=cursor)
            clocks = [clock_to_dict(c) for c in page]
        return {"success": True, "testClocks": clocks, "nextCursor": next_cursor}

    return await run_read(read)


@router.get(
    "/test_clocks/{clockId}",
    response_model=ClockEnvelope,
    responses=_CLOCK_READ_ERRORS,
    summary="Get a test clock",
)
async def get_clock(clockId: ClockId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            found = clock.get_clock(db, who.scope, clockId)
            return {"success": True, "testClock": clock_to_dict(found)}

    return await run_read(read)


@router.post(
    "/test_clocks/{clockId}/advance",
    response_model=ClockEnvelope,
    responses=_CLOCK_ERRORS,
    summary="Advance a test clock to frozenTime; what falls due on the way happens at once",
)
async def advance_clock(
    clockId: ClockId, body: ClockAdvance, request: Request, who: CallerDep
) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            advanced = clock.advance(db, who.scope, clockId, body.frozenTime, actor=who.actor)
            return 200, {"success": True, "testClock": clock_to_dict(advanced)}

    return await respond(request, who, work)


@router.delete(
    "/test_clocks/{clockId}",
    response_model=Deleted,
    responses=only(_CLOCK_ERRORS, 400, 401, 403, 404, 409, 429),
    summary="Delete a test clock",
)
async def delete_clock(clockId: ClockId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            clock.delete_clock(db, who.scope, clockId, actor=who.actor)
        return 200, {"success": True, "id": clockId, "deleted": True}

    return await respond(request, who, work)
