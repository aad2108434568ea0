"""Orders and payments: create, authorize, charge, confirm, capture, refund, void, get, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Request
from sqlmodel import Session

from backend.api import json_body
from backend.api.deps import Caller, CallerDep, Result, caller, respond_atomic
from backend.api.errors import ErrorBody, error_responses, only
from backend.api.responses import JSONResponse
from backend.api.schemas import (
    CaptureBody,
    ConfirmBody,
    DeclinedBody,
    OrderCreate,
    OrderEnvelope,
    PaymentCreate,
    PaymentEnvelope,
    PaymentList,
    RefundBody,
    RefundEnvelope,
    ReviewBody,
)
from backend.core.db import session_scope
from backend.core.errors import ServiceError, ValidationFailed
from backend.core.read_threads import run_read
from backend.models import BankDebit, Payment
from backend.services.payments import (
    authentication,
    bank_debits,
    charges,
    operations,
    orders,
    reviews,
    routing,
)
from backend.services.payments.bank_debits import MandateInput
from backend.services.payments.charges import ChargeInput, PaymentMethodInput, PaymentOutcome
from backend.services.payments.sandbox_followups import dispute_later
from backend.services.representations import order_to_dict, payment_to_dict, refund_to_dict

router = APIRouter(prefix="/api", tags=["payments"])

_ERRORS = error_responses(
    {
        409: "Illegal state change or Idempotency-Key conflict",
        422: "A value is not acceptable (currency, amount...)",
    }
)
_CHARGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    402: {"model": DeclinedBody, "description": "Declined by the card issuer or blocked by risk"},
    503: {"model": DeclinedBody, "description": "No gateway could be reached; nothing captured"},
}
PaymentId = Annotated[str, Path(min_length=1, max_length=64, description="A payment id (pay_...)")]
OrderId = Annotated[str, Path(min_length=1, max_length=64, description="An order id (ord_...)")]


def payment_answer(db: Session, payment: Payment, bank: BankDebit | None = None) -> dict[str, Any]:
    """The payment as the API answers it, with what it waits for (nextAction)."""
    return payment_to_dict(payment, bank, authentication.next_action(db, payment))


def outcome_result(outcome: PaymentOutcome, created: int, db: Session) -> Result:
    payment = payment_answer(db, outcome.payment, outcome.bank_debit)
    body: dict[str, Any] = {"success": outcome.ok, "payment": payment}
    if outcome.ok:
        return created, body
    unavailable = outcome.error_code in routing.UNAVAILABLE_CODES
    status = 503 if unavailable else 402
    body["error"] = {
        "code": outcome.error_code,
        "message": outcome.error_message,
        "param": "paymentMethod" if status == 402 else None,
        "declineCode": outcome.payment.failure_code,
    }
    if outcome.error_rule:
        body["error"]["rule"] = outcome.error_rule
    return status, body


def _payment_method(body: PaymentCreate) -> PaymentMethodInput:
    """A card or bank payment names its token; a PayPal one names none but says where the
    buyer comes back from PayPal's approval page (returnUrl, cancelUrl)."""
    method = body.paymentMethod
    if method.type != charges.PAYPAL:
        if method.token is None:  # a missing field, as the body's parser words it: 400
            raise ServiceError(
                f'paymentMethod.token is required with type "{method.type}"',
                param="paymentMethod.token",
            )
        return PaymentMethodInput(method.type, method.token)
    if method.token is not None:
        raise ValidationFailed(
            'paymentMethod.token is not used with type "paypal": the buyer approves on '
            "PayPal's page",
            param="paymentMethod.token",
        )
    for param, value in (("returnUrl", body.returnUrl), ("cancelUrl", body.cancelUrl)):
        if value is None:
            raise ValidationFailed(
                f'{param} is required with paymentMethod.type "paypal"', param=param
            )
    return PaymentMethodInput(charges.PAYPAL, charges.PAYPAL)


def _charge_input(body: PaymentCreate, who: Caller, request: Request) -> ChargeInput:
    return ChargeInput(
        payment_method=_payment_method(body),
        return_url=body.returnUrl,
        cancel_url=body.cancelUrl,
        order_id=body.orderId,
        amount=body.amountCents,
        currency=body.currency,
        gateway_type=body.gatewayType,
        customer_email=body.customerEmail,
        description=body.description,
        billing_country=body.billingCountry,
        ip_address=who.actor.ip_address,
        metadata=body.metadata or {},
        idempotency_key=request.headers.get("idempotency-key"),
        mandate=(
            MandateInput(body.mandate.text, body.mandate.ipAddress, body.mandate.userAgent)
            if body.mandate
            else None
        ),
    )


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderEnvelope,
    responses=_ERRORS,
    summary="Create an order",
)
async def create_order(body: OrderCreate, request: Request, who: CallerDep) -> JSONResponse:
    def work(db: Session) -> Result:
        order = orders.create_order(
            db,
            who.scope,
            amount=body.amountCents,
            currency=body.currency,
            reference=body.reference,
            customer_email=body.customerEmail,
            metadata=body.metadata,
            actor=who.actor,
        )
        return 201, {"success": True, "order": order_to_dict(order)}

    return await respond_atomic(request, who, work)


async def _create(request: Request, capture: bool) -> JSONResponse:
    """Authorize or charge. The caller and the body are read here rather than by FastAPI's
    dependency solver (see backend.api.json_body): every charge takes this route."""
    who = await caller(request)
    body = await json_body.parse(request, PaymentCreate)
    data = _charge_input(body, who, request)
    operation = charges.charge if capture else charges.authorize
    disputed: list[str] = []

    def work(db: Session) -> Result:
        outcome = operation(db, who.scope, data, actor=who.actor)
        if outcome.dispute_expected:
            disputed.append(outcome.payment.id)
        return outcome_result(outcome, 201, db)

    response = await respond_atomic(request, who, work)
    if disputed:  # only once the payment is committed
        response.background = BackgroundTasks()
        for payment_id in disputed:
            response.background.add_task(dispute_later, who.scope, payment_id)
    return response


@router.post(
    "/payments/authorize",
    status_code=201,
    response_model=PaymentEnvelope,
    responses=_CHARGE_ERRORS,
    openapi_extra=json_body.documented(PaymentCreate),
    summary="Authorize a payment (place a hold)",
)
async def authorize(request: Request) -> JSONResponse:
    return await _create(request, False)


@router.post(
    "/payments/charge",
    status_code=201,
    response_model=PaymentEnvelope,
    responses=_CHARGE_ERRORS,
    openapi_extra=json_body.documented(PaymentCreate),
    summary="Charge a payment (authorize and capture)",
)
async def charge(request: Request) -> JSONResponse:
    return await _create(request, True)


@router.post(
    "/payments/{paymentId}/capture",
    response_model=PaymentEnvelope,
    responses=_ERRORS,
    summary="Capture an authorized payment, fully or partly, once",
)
async def capture(
    request: Request,
    paymentId: PaymentId,
    who: CallerDep,
    body: CaptureBody | None = None,
) -> JSONResponse:
    def work(db: Session) -> Result:
        payment = operations.capture(
            db, who.scope, paymentId, amount=body.amountCents if body else None, actor=who.actor
        )
        return 200, {"success": True, "payment": payment_to_dict(payment)}

    return await respond_atomic(request, who, work)


@router.post(
    "/payments/{paymentId}/refund",
    response_model=RefundEnvelope,
    responses={
        **_ERRORS,
        402: {"model": ErrorBody, "description": "The gateway refused the refund"},
    },
    summary="Refund a captured payment, fully or partly",
)
async def refund(
    request: Request,
    paymentId: PaymentId,
    who: CallerDep,
    body: RefundBody | None = None,
) -> JSONResponse:
    def work(db: Session) -> Result:
        payment, record = operations.refund(
            db,
            who.scope,
            paymentId,
            amount=body.amountCents if body else None,
            reason=body.reason if body else None,
            actor=who.actor,
        )
        ok = record.status != "failed"
        result: dict[str, Any] = {
            "success": ok,
            "payment": payment_to_dict(payment),
            "refund": refund_to_dict(record),
        }
        if not ok:
            result["error"] = {
                "code": "refund_failed",
                "param": None,
                "message": record.failure_reason or "The refund failed",
            }
        return (200 if ok else 402), result

    return await respond_atomic(request, who, work)


@router.post(
    "/payments/{paymentId}/void",
    response_model=PaymentEnvelope,
    responses=_ERRORS,
    summary="Void (cancel) an uncaptured authorization",
)
async def void(request: Request, paymentId: PaymentId, who: CallerDep) -> JSONResponse:
    def work(db: Session) -> Result:
        payment = operations.void(db, who.scope, paymentId, actor=who.actor)
        return 200, {"success": True, "payment": payment_to_dict(payment)}

    return await respond_atomic(request, who, work)


@router.post(
    "/payments/{paymentId}/confirm",
    response_model=PaymentEnvelope,
    responses={
        **_ERRORS,
        402: {"model": DeclinedBody, "description": "Declined at the customer's step"},
        409: {
            "model": ErrorBody,
            "description": "The payment does not wait for its customer "
            "(payment_not_awaiting_action), or an Idempotency-Key conflict",
        },
        503: {"model": DeclinedBody, "description": "The processor did not answer: retry"},
    },
    summary="Confirm a payment that waited for its customer (PayPal's approval, 3-D Secure)",
    description="After the customer came back from nextAction.redirectToUrl.url. PayPal: the "
    "order's state at PayPal decides (approved: captured, or authorized for an authorize-only "
    'payment; not yet: still requires_action). {"approved": false}: the buyer came back on '
    "cancelUrl; the payment fails with payment_canceled.",
)
async def confirm(
    request: Request,
    paymentId: PaymentId,
    who: CallerDep,
    body: ConfirmBody | None = None,
) -> JSONResponse:
    cancelled = body is not None and body.approved is False

    def work(db: Session) -> Result:
        finished = authentication.confirm(db, who.scope, paymentId, cancelled, who.actor)
        error = message = None
        if finished.outcome == authentication.UNAVAILABLE:
            error = "gateway_unavailable"
            message = "The processor did not answer: confirm the payment again"
        elif finished.outcome == authentication.DECLINED and (
            finished.decline_code != authentication.CANCELED_BY_CUSTOMER
        ):
            error, message = "card_declined", finished.message
        return outcome_result(PaymentOutcome(finished.payment, error, message), 200, db)

    return await respond_atomic(request, who, work)


@router.post(
    "/payments/{paymentId}/review",
    response_model=PaymentEnvelope,
    responses=_ERRORS,
    summary="Close the review of a payment the risk rules flagged: approved or fraudulent",
    description="Once per payment. Marking it fraudulent moves no money: refund it separately.",
)
async def review(
    request: Request, paymentId: PaymentId, who: CallerDep, body: ReviewBody
) -> JSONResponse:
    def work(db: Session) -> Result:
        payment = reviews.close(db, who.scope, paymentId, body.outcome, actor=who.actor)
        return 200, {"success": True, "payment": payment_to_dict(payment)}

    return await respond_atomic(request, who, work)


def _read(fn: Any) -> Any:
    with session_scope(readonly=True) as db:
        return fn(db)


@router.get(
    "/payments/{paymentId}",
    response_model=PaymentEnvelope,
    responses=only(_ERRORS, 401, 404, 429),
    summary="Get a payment",
)
async def get_payment(paymentId: PaymentId, who: CallerDep) -> dict[str, Any]:
    def read(db: Session) -> dict[str, Any]:
        payment = orders.get_payment(db, who.scope, paymentId)
        bank = bank_debits.debits_of(db, [payment]).get(payment.id)
        return {"success": True, "payment": payment_answer(db, payment, bank)}

    return await run_read(_read, read)


@router.get(
    "/orders/{orderId}/payments",
    response_model=PaymentList,
    responses=only(_ERRORS, 401, 404, 429),
    summary="List the payments of an order",
)
async def order_payments(orderId: OrderId, who: CallerDep) -> dict[str, Any]:
    def read(db: Session) -> dict[str, Any]:
        found = orders.list_order_payments(db, who.scope, orderId)
        banks = bank_debits.debits_of(db, found)
        answers = [payment_answer(db, p, banks.get(p.id)) for p in found]
        return {"success": True, "payments": answers}

    return await run_read(_read, read)
