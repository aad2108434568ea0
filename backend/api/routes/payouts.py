"""The balance, its transactions and payouts: read them, pay out now, cancel a pending payout.

A payout is booked and committed first, then sent on the rail (Plaid Transfer, or its offline
twin) outside the transaction, so the answer shows it in transit, pending (the rail was
unreachable: it is sent again within minutes) or failed (the rail refused it: its money is
available again).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from backend.api.deps import CallerDep, Result, respond
from backend.api.errors import error_responses, only
from backend.api.responses import JSONResponse
from backend.core.db import session_scope
from backend.core.read_threads import run_read
from backend.models.ledger import Payout
from backend.services.payouts import canceling, creating, reads
from backend.services.representations import balance_transaction_to_dict, payout_to_dict

router = APIRouter(prefix="/api", tags=["balance and payouts"])

_ERRORS = error_responses(
    {
        404: "No such payout for this merchant and mode",
        409: "Not enough available balance, no bank account, a payout already on its way, or "
        "an Idempotency-Key conflict",
        422: "A value is not acceptable (currency, amount...)",
        503: "The payout rail cannot be reached; try again",
    }
)
_READ_ERRORS = only(_ERRORS, 400, 401, 404, 422, 429)
PayoutId = Annotated[str, Path(min_length=1, max_length=64, description="A payout id (po_...)")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="`nextCursor` of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1 to 100)")]


class PayoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: StrictStr = Field(min_length=3, max_length=3, examples=["USD"])
    amountCents: StrictInt | None = Field(
        None, gt=0, le=10**15, description="Omit to pay out the whole available balance"
    )


class Money(BaseModel):
    currency: str
    amountCents: int


class BalanceOut(BaseModel):
    available: list[Money] = Field(description="Can be paid out now")
    pending: list[Money] = Field(description="Not yet available (may be below zero)")
    inTransit: list[Money] = Field(description="Paid out, on its way to the bank")


class BalanceEnvelope(BaseModel):
    success: bool
    balance: BalanceOut


class BalanceTransactionOut(BaseModel):
    id: str
    object: Literal["balance_transaction"]
    type: str
    amountCents: int
    feeCents: int
    netCents: int = Field(description="amountCents - feeCents: what it adds to the balance")
    currency: str
    status: Literal["pending", "available"]
    availableOn: str | None
    source: str
    sourceType: str
    payout: str | None = Field(description="The payout that paid it out")
    description: str | None
    createdAt: str | None


class BalanceTransactionList(BaseModel):
    success: bool
    balanceTransactions: list[BalanceTransactionOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class PayoutOut(BaseModel):
    id: str
    object: Literal["payout"]
    amountCents: int
    currency: str
    status: Literal["pending", "in_transit", "paid", "failed", "canceled"]
    automatic: bool
    method: str = Field(description="The rail: plaid or sandbox")
    description: str | None
    arrivalDate: str | None
    failureCode: str | None = Field(description="e.g. R01 (an ACH return) or NSF")
    failureMessage: str | None
    createdAt: str | None
    paidAt: str | None
    failedAt: str | None
    canceledAt: str | None


class PayoutEnvelope(BaseModel):
    success: bool
    payout: PayoutOut


class PayoutDetail(PayoutEnvelope):
    balanceTransactions: list[BalanceTransactionOut] = Field(
        description="What this payout paid out (their nets add up to it)"
    )


class PayoutList(BaseModel):
    success: bool
    payouts: list[PayoutOut]
    nextCursor: str | None


@router.get(
    "/balance",
    response_model=BalanceEnvelope,
    responses=only(_READ_ERRORS, 400, 401, 429),
    summary="The balance per currency: available, pending and in transit",
)
async def get_balance(who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            totals = reads.balance(db, who.scope)
        return {
            "success": True,
            "balance": {
                pool: [{"currency": c, "amountCents": t[pool]} for c, t in totals.items()]
                for pool in ("available", "pending", "inTransit")
            },
        }

    return await run_read(read)


@router.get(
    "/balance_transactions",
    response_model=BalanceTransactionList,
    responses=_READ_ERRORS,
    summary="The movements of the balance, newest first",
)
async def list_balance_transactions(
    who: CallerDep,
    type: Annotated[str | None, Query(max_length=24, description="e.g. charge, payout")] = None,
    payout: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Paid out by this payout")
    ] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    created_gte: Annotated[AwareDatetime | None, Query(alias="created[gte]")] = None,
    created_lte: Annotated[AwareDatetime | None, Query(alias="created[lte]")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = reads.list_balance_transactions(
                db,
                who.scope,
                type=type,
                payout=payout,
                currency=currency,
                created_gte=created_gte,
                created_lte=created_lte,
                limit=limit,
                cursor=cursor,
            )
        return {
            "success": True,
            "balanceTransactions": [balance_transaction_to_dict(t) for t in page],
            "nextCursor": next_cursor,
        }

    return await run_read(read)


@router.get(
    "/payouts",
    response_model=PayoutList,
    responses=_READ_ERRORS,
    summary="Payouts, newest first",
)
async def list_payouts(
    who: CallerDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            page, next_cursor = reads.list_payouts(
                db, who.scope, status=status, limit=limit, cursor=cursor
            )
        return {
            "success": True,
            "payouts": [payout_to_dict(p) for p in page],
            "nextCursor": next_cursor,
        }

    return await run_read(read)


@router.get(
    "/payouts/{payoutId}",
    response_model=PayoutDetail,
    responses=_READ_ERRORS,
    summary="A payout, with the balance transactions it paid out",
)
async def get_payout(payoutId: PayoutId, who: CallerDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with session_scope(readonly=True) as db:
            payout = reads.get_payout(db, who.scope, payoutId)
            return _detail(payout, reads.paid_out_transactions(db, payout))

    return await run_read(read)


@router.post(
    "/payouts",
    status_code=201,
    response_model=PayoutEnvelope,
    responses=_ERRORS,
    summary="Pay out the available balance (all of it, or amountCents) to the bank account",
)
async def create_payout(body: PayoutCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            payout = creating.create_manual(
                db, who.scope, who.actor, body.currency, body.amountCents
            )
        sent = creating.send(payout.id)
        return 201, {"success": True, "payout": payout_to_dict(sent)}

    return await respond(request, who, work)


@router.post(
    "/payouts/{payoutId}/cancel",
    response_model=PayoutEnvelope,
    responses=_ERRORS,
    summary="Cancel a pending payout (its amount is available again)",
)
async def cancel_payout(payoutId: PayoutId, request: Request, who: CallerDep) -> JSONResponse:
    def work() -> Result:
        with session_scope() as db:
            payout = canceling.cancel(db, who.scope, who.actor, payoutId)
            return 200, {"success": True, "payout": payout_to_dict(payout)}

    return await respond(request, who, work)


def _detail(payout: Payout, paid_out: list[Any]) -> dict[str, Any]:
    return {
        "success": True,
        "payout": payout_to_dict(payout),
        "balanceTransactions": [balance_transaction_to_dict(t) for t in paid_out],
    }
