"""PayPal behind the Gateway interface: Orders v2 and Payments v2, through PayPalClient (REST).

One PayPal order per payment; the order id is the payment's gateway_payment_id. The buyer
approves the order on PayPal's own page, so a new payment is always REQUIRES_ACTION first, its
approval link given by `action_url`; `complete_action` then captures (intent CAPTURE) or
authorizes (intent AUTHORIZE) the approved order. Later operations find the authorization or
capture of the order with one GET, so nothing but the order id needs storing:

=============================  ==============================================================
Gateway method                 PayPal calls
=============================  ==============================================================
create_payment                 POST /v2/checkout/orders (payment_source.paypal with the
                               return and cancel URLs) -> REQUIRES_ACTION
complete_action                GET the order; APPROVED -> POST .../capture or .../authorize
                               (and, for a charge of an AUTHORIZE order, capture that)
capture                        GET the order -> POST /v2/payments/authorizations/{id}/capture
void                           GET the order -> POST /v2/payments/authorizations/{id}/void
refund                         GET the order -> POST /v2/payments/captures/{id}/refund
retrieve, action_url           GET /v2/checkout/orders/{id}
=============================  ==============================================================

Idempotency: every POST carries PayPal-Request-Id, derived from the caller's idempotency key
(create, capture, void, refund) or from the order (complete_action: "<order>:complete"), so a
retry after a lost answer replays PayPal's first answer and never charges twice.

How PayPal's answers map onto ours
----------------------------------

==========================================  ===============================  ====================
PayPal                                      We return / raise                code
==========================================  ===============================  ====================
order CREATED / PAYER_ACTION_REQUIRED       PaymentResult REQUIRES_ACTION
order APPROVED (not yet completed)          REQUIRES_ACTION from create and
                                            retrieve; completed by
                                            complete_action
capture COMPLETED                           SUCCEEDED
authorization CREATED / CAPTURED            AUTHORIZED / SUCCEEDED
capture or authorization DECLINED /         DECLINED                         card_declined
  DENIED / FAILED
capture / authorization PENDING             GatewayUnavailable               gateway_outcome_unknown
                                            (the PAYMENT.CAPTURE.* webhook
                                            settles it)
order VOIDED, or the buyer cancelled        DECLINED                         payment_canceled
422 INSTRUMENT_DECLINED                     DECLINED                         card_declined
422 PAYER_CANNOT_PAY,                       DECLINED                         the issue, lower case
  PAYEE_BLOCKED_TRANSACTION,                                                 (the customer sees
  TRANSACTION_REFUSED, COMPLIANCE_VIOLATION,                                 card_declined)
  MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED
422 PAYER_ACTION_REQUIRED,                  REQUIRES_ACTION (the buyer must
  ORDER_NOT_APPROVED                        approve at PayPal again)
422 ORDER_ALREADY_CAPTURED /                the order's state now (a replay)
  ORDER_ALREADY_AUTHORIZED
422 AUTHORIZATION_EXPIRED                   Conflict                         authorization_expired
422 AUTHORIZATION_ALREADY_CAPTURED,         Conflict                         invalid_state
  AUTHORIZATION_VOIDED, PREVIOUSLY_VOIDED   (void: returns quietly)
422 CAPTURE_FULLY_REFUNDED                  Conflict                         charge_already_refunded
422 REFUND_AMOUNT_EXCEEDED                  ValidationFailed (amount)        refund_amount_exceeded
422 DUPLICATE_REQUEST_ID (same id, other    Conflict                         idempotency_key_reused
  body)
404 RESOURCE_NOT_FOUND                      NotFound (ValidationFailed on    resource_missing
                                            create)
400 (INVALID_PARAMETER_VALUE,               GatewayUnavailable (refused      request_rejected
  CURRENCY_NOT_SUPPORTED...), other 422     before acting: another gateway
                                            may accept): gateway_request_rejected
transport, 401/403, 429, 5xx                GatewayUnavailable (client.py)
==========================================  ===============================  ====================

What PayPal cannot do here raises UnsupportedOperation (422 processor_unsupported): saving
cards for off-session charges (create_customer, save_card, detach_card; PayPal's vault is not
wired), answering disputes through our API (PayPal's Resolution Center), and listing payouts and
balance movements (PayPal has no Stripe-like payout objects). card_details and client_secret
answer None: the buyer's funding source is PayPal's secret.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from backend.core.currency import exponent
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.gateways.base import (
    CardDetails,
    DisputeEvidence,
    DisputeState,
    EvidenceFile,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
    PaymentResult,
    ProcessorBalanceTransaction,
    ProcessorPayout,
    RefundResult,
    RefundState,
    SetupResult,
    UnsupportedOperation,
)
from backend.gateways.paypal.client import PayPalClient, PayPalError

log = logging.getLogger(__name__)

PAYMENT_METHOD_TYPE = "paypal"
APPROVE_MESSAGE = "Approve the payment with PayPal to finish."
CANCELED_MESSAGE = "The PayPal payment was cancelled."
DECLINED_MESSAGE = (
    "PayPal declined the payment. Please choose another way to pay in PayPal or another method."
)
# PayPal takes no decimals for these currencies, whatever ISO 4217 says.
_WHOLE_UNITS = frozenset({"HUF", "TWD", "JPY"})
_MAX_REQUEST_ID = 108  # PayPal-Request-Id's documented maximum length

_DECLINE_ISSUES = {
    "INSTRUMENT_DECLINED": "card_declined",
    "PAYER_CANNOT_PAY": "payer_cannot_pay",
    "PAYEE_BLOCKED_TRANSACTION": "payee_blocked_transaction",
    "TRANSACTION_REFUSED": "transaction_refused",
    "COMPLIANCE_VIOLATION": "compliance_violation",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": "max_payment_attempts_exceeded",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING": "card_declined",
}
_ACTION_ISSUES = frozenset({"PAYER_ACTION_REQUIRED", "ORDER_NOT_APPROVED"})
_DONE_ISSUES = frozenset({"ORDER_ALREADY_CAPTURED", "ORDER_ALREADY_AUTHORIZED"})
_STATE_ISSUES = frozenset(
    {"AUTHORIZATION_ALREADY_CAPTURED", "AUTHORIZATION_VOIDED", "PREVIOUSLY_VOIDED"}
)


def to_value(amount: int, currency: str) -> str:
    """Minor units as PayPal's decimal string ("10.00", "1000" for JPY). No floats."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(
            "The amount must be a positive whole number of the currency's minor unit",
            code="amount_invalid",
            param="amount",
        )
    places = exponent(currency)
    code = currency.upper()
    if code in _WHOLE_UNITS:
        scale = 10**places
        if amount % scale:
            raise ValidationFailed(
                f"PayPal takes {code} in whole units only", code="amount_invalid", param="amount"
            )
        return str(amount // scale)
    if places == 0:
        return str(amount)
    whole, fraction = divmod(amount, 10**places)
    return f"{whole}.{fraction:0{places}d}"


def from_value(value: str, currency: str) -> int:
    """PayPal's decimal string as minor units; refuses what is not exact."""
    places = exponent(currency)
    text = str(value).strip()
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > places:
        raise ValueError(f"not an amount of {currency}: {value!r}")
    return int(whole) * 10**places + int((fraction or "0").ljust(places, "0") or "0")


def _request_id(key: str) -> str:
    return key[:_MAX_REQUEST_ID]


class PayPalGateway:
    """The Gateway protocol of backend.gateways.base on PayPal's Orders v2 API."""

    name = "paypal"

    def __init__(self, client: PayPalClient, *, return_url: str, cancel_url: str | None = None):
        self.client = client
        self.return_url = return_url
        self.cancel_url = cancel_url or return_url

    def close(self) -> None:
        self.client.close()

    # -- the Gateway protocol --------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        if request.payment_method_type != PAYMENT_METHOD_TYPE:
            raise ValidationFailed(
                'PayPal takes PayPal payments only (paymentMethod.type "paypal")',
                code="payment_method_unsupported",
                param="paymentMethod.type",
            )
        if request.off_session or request.gateway_customer_id or request.setup_future_usage:
            raise UnsupportedOperation(
                "PayPal payments need the buyer's approval each time: nothing is saved for "
                "charges off session"
            )
        unit: dict[str, Any] = {
            "reference_id": "default",
            "amount": {
                "currency_code": request.currency.upper(),
                "value": to_value(request.amount, request.currency),
            },
        }
        ours = request.metadata.get("payment_id")
        if ours:
            unit["custom_id"] = ours[:127]
        if request.description:
            unit["description"] = request.description[:127]
        body = {
            "intent": "CAPTURE" if request.capture else "AUTHORIZE",
            "purchase_units": [unit],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": request.return_url or self.return_url,
                        "cancel_url": request.cancel_url or self.cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        try:
            order = self.client.request(
                "POST",
                "/v2/checkout/orders",
                body=body,
                request_id=_request_id(request.idempotency_key),
            )
        except PayPalError as err:
            return self._refused(err, None, "create_payment")
        return _order_result(order)

    def complete_action(
        self, gateway_payment_id: str, approved: bool | None, *, capture: bool
    ) -> PaymentResult:
        """The buyer came back from PayPal's page. `approved` False: they cancelled there (the
        order is left to expire: an approval alone moves no money). Otherwise the order's
        state decides: still waiting, or approved and now captured / authorized."""
        order_id = _order_id(gateway_payment_id)
        order = self._order(order_id)
        status = order.get("status")
        if status == "COMPLETED" or status == "VOIDED":
            return _order_result(order)
        if approved is False:
            return PaymentResult(
                Outcome.DECLINED,
                order_id,
                decline_code="payment_canceled",
                message=CANCELED_MESSAGE,
            )
        if status != "APPROVED":
            return _order_result(order)
        step = "capture" if order.get("intent") == "CAPTURE" else "authorize"
        try:
            order = self.client.request(
                "POST",
                f"/v2/checkout/orders/{order_id}/{step}",
                body={},
                request_id=_request_id(f"{order_id}:complete"),
            )
        except PayPalError as err:
            return self._refused(err, order_id, "complete_action")
        result = _order_result(order)
        if step == "authorize" and capture and result.outcome == Outcome.AUTHORIZED:
            unit = _unit(order)
            amount = unit.get("amount") or _authorization(order).get("amount") or {}
            currency = str(amount.get("currency_code", ""))
            return self.capture(
                order_id,
                from_value(str(amount.get("value", "0")), currency),
                currency,
                idempotency_key=f"{order_id}:complete:capture",
            )
        return result

    def capture(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> PaymentResult:
        order_id = _order_id(gateway_payment_id)
        value = to_value(amount, currency)
        order = self._order(order_id)
        authorization = _authorization(order)
        if not authorization.get("id"):
            raise Conflict(
                f"PayPal order {order_id} holds no authorization to capture "
                f"(order {order.get('status')})",
                code="invalid_state",
            )
        try:
            captured = self.client.request(
                "POST",
                f"/v2/payments/authorizations/{authorization['id']}/capture",
                body={
                    "amount": {"currency_code": currency.upper(), "value": value},
                    "final_capture": True,
                },
                request_id=_request_id(idempotency_key),
            )
        except PayPalError as err:
            return self._refused(err, order_id, "capture")
        return _capture_result(order_id, captured)

    def void(self, gateway_payment_id: str, *, idempotency_key: str) -> None:
        order_id = _order_id(gateway_payment_id)
        order = self._order(order_id)
        authorization = _authorization(order)
        if not authorization.get("id") or authorization.get("status") == "VOIDED":
            return  # never authorized (the buyer did not approve) or voided: nothing is held
        try:
            self.client.request(
                "POST",
                f"/v2/payments/authorizations/{authorization['id']}/void",
                request_id=_request_id(idempotency_key),
            )
        except PayPalError as err:
            if err.issue in ("AUTHORIZATION_VOIDED", "PREVIOUSLY_VOIDED"):
                return
            raise _classify(err, "void") from err

    def refund(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> RefundResult:
        order_id = _order_id(gateway_payment_id)
        value = to_value(amount, currency)
        capture = _capture(self._order(order_id))
        if not capture.get("id"):
            raise Conflict(
                f"PayPal order {order_id} holds no capture to refund", code="invalid_state"
            )
        try:
            refund = self.client.request(
                "POST",
                f"/v2/payments/captures/{capture['id']}/refund",
                # custom_id: the order, so the PAYMENT.CAPTURE.REFUNDED event (whose resource
                # is the refund) names the payment it belongs to.
                body={
                    "amount": {"currency_code": currency.upper(), "value": value},
                    "custom_id": order_id,
                },
                request_id=_request_id(idempotency_key),
            )
        except PayPalError as err:
            raise _classify(err, "refund") from err
        status = refund.get("status")
        if status == "COMPLETED":
            return RefundResult(str(refund["id"]), RefundState.SUCCEEDED)
        if status in ("FAILED", "CANCELLED"):
            reason = (refund.get("status_details") or {}).get("reason") or str(status).lower()
            return RefundResult(str(refund["id"]), RefundState.FAILED, failure_reason=reason)
        return RefundResult(str(refund["id"]), RefundState.PENDING)

    def retrieve(self, gateway_payment_id: str) -> PaymentResult:
        return _order_result(self._order(_order_id(gateway_payment_id)))

    def action_url(self, gateway_payment_id: str) -> str | None:
        """The order's payer-action (or approve) link while the buyer has still to approve."""
        try:
            order = self._order(_order_id(gateway_payment_id))
        except (GatewayUnavailable, NotFound):
            return None
        if order.get("status") not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            return None
        return _approval_link(order)

    def card_details(self, token: str) -> CardDetails | None:
        return None  # the buyer's funding source stays with PayPal

    def client_secret(self, gateway_payment_id: str) -> str | None:
        return None  # PayPal's step is a redirect (action_url), not a script

    # -- what PayPal cannot do here ---------------------------------------------------------

    def create_customer(
        self, *, email: str | None, name: str | None, reference: str, idempotency_key: str
    ) -> str:
        raise UnsupportedOperation("PayPal does not keep customers for saved cards here")

    def save_card(
        self, gateway_customer_id: str, token: str, *, idempotency_key: str
    ) -> SetupResult:
        raise UnsupportedOperation("Cards cannot be saved at PayPal: use a card processor")

    def detach_card(self, gateway_payment_method_id: str, *, idempotency_key: str) -> None:
        raise UnsupportedOperation("PayPal keeps no saved cards here")

    def submit_dispute(
        self, gateway_dispute_id: str, evidence: DisputeEvidence, files: list[EvidenceFile]
    ) -> DisputeState:
        raise UnsupportedOperation(
            "PayPal disputes are answered in PayPal's Resolution Center, not through PayPortal"
        )

    def accept_dispute(self, gateway_dispute_id: str) -> DisputeState:
        raise UnsupportedOperation(
            "PayPal disputes are answered in PayPal's Resolution Center, not through PayPortal"
        )

    def list_payouts(
        self, created_after: datetime | None = None, limit: int = 100
    ) -> list[ProcessorPayout]:
        raise UnsupportedOperation("PayPal's payouts are not read by PayPortal")

    def list_balance_transactions(
        self,
        payout_id: str | None = None,
        created_after: datetime | None = None,
        limit: int = 1000,
    ) -> list[ProcessorBalanceTransaction]:
        raise UnsupportedOperation("PayPal's balance movements are not read by PayPortal")

    # -- helpers ---------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        try:
            return self.client.request("GET", f"/v2/checkout/orders/{order_id}")
        except PayPalError as err:
            raise _classify(err, "retrieve") from err

    def _refused(self, err: PayPalError, order_id: str | None, operation: str) -> PaymentResult:
        """A refusal that is an answer about the payment, else raise what it means."""
        issue = err.issue or ""
        if issue in _DECLINE_ISSUES:
            code = _DECLINE_ISSUES[issue]
            log.info("paypal %s declined: %s (debug id %s)", operation, issue, err.debug_id)
            return PaymentResult(
                Outcome.DECLINED, order_id, decline_code=code, message=DECLINED_MESSAGE
            )
        if issue in _ACTION_ISSUES and order_id:
            return PaymentResult(Outcome.REQUIRES_ACTION, order_id, message=APPROVE_MESSAGE)
        if issue in _DONE_ISSUES and order_id:
            return _order_result(self._order(order_id))
        raise _classify(err, operation) from err


# -- mapping -------------------------------------------------------------------------------


def _order_id(gateway_payment_id: object) -> str:
    if (
        not isinstance(gateway_payment_id, str)
        or not gateway_payment_id
        or len(gateway_payment_id) > 64
        or not gateway_payment_id.replace("-", "").isalnum()
    ):
        raise NotFound("No such PayPal order", code="resource_missing")
    return gateway_payment_id


def _unit(order: dict[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units")
    return units[0] if isinstance(units, list) and units and isinstance(units[0], dict) else {}


def _payments(order: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = (_unit(order).get("payments") or {}).get(kind)
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def _authorization(order: dict[str, Any]) -> dict[str, Any]:
    found = _payments(order, "authorizations")
    return found[-1] if found else {}


def _capture(order: dict[str, Any]) -> dict[str, Any]:
    """The order's capture that holds money (the latest completed one, else the latest)."""
    found = _payments(order, "captures")
    done = [c for c in found if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")]
    return (done or found or [{}])[-1]


def _approval_link(order: dict[str, Any]) -> str | None:
    links = order.get("links") if isinstance(order.get("links"), list) else []
    by_rel = {link.get("rel"): link.get("href") for link in links if isinstance(link, dict)}
    return by_rel.get("payer-action") or by_rel.get("approve")


def _order_result(order: dict[str, Any]) -> PaymentResult:
    order_id = str(order.get("id") or "")
    status = order.get("status")
    if status in ("CREATED", "PAYER_ACTION_REQUIRED", "SAVED", "APPROVED"):
        return PaymentResult(Outcome.REQUIRES_ACTION, order_id, message=APPROVE_MESSAGE)
    if status == "VOIDED":
        return PaymentResult(
            Outcome.DECLINED, order_id, decline_code="payment_canceled", message=CANCELED_MESSAGE
        )
    if status == "COMPLETED":
        captures = _payments(order, "captures")
        if captures:
            return _capture_result(order_id, _capture(order))
        authorization = _authorization(order)
        if authorization:
            return _authorization_result(order_id, authorization)
    raise GatewayUnavailable(
        f"PayPal left order {order_id} in status {status}", code="gateway_outcome_unknown"
    )


def _capture_result(order_id: str, capture: dict[str, Any]) -> PaymentResult:
    status = capture.get("status")
    if status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
        return PaymentResult(Outcome.SUCCEEDED, order_id)
    if status in ("DECLINED", "FAILED"):
        return PaymentResult(
            Outcome.DECLINED, order_id, decline_code="card_declined", message=DECLINED_MESSAGE
        )
    raise GatewayUnavailable(
        f"PayPal's capture of order {order_id} is {status}; its webhook will settle it",
        code="gateway_outcome_unknown",
    )


def _authorization_result(order_id: str, authorization: dict[str, Any]) -> PaymentResult:
    status = authorization.get("status")
    if status in ("CREATED", "PARTIALLY_CAPTURED"):
        return PaymentResult(Outcome.AUTHORIZED, order_id)
    if status == "CAPTURED":
        return PaymentResult(Outcome.SUCCEEDED, order_id)
    if status in ("DENIED", "EXPIRED"):
        return PaymentResult(
            Outcome.DECLINED, order_id, decline_code="card_declined", message=DECLINED_MESSAGE
        )
    if status == "VOIDED":
        return PaymentResult(
            Outcome.DECLINED, order_id, decline_code="payment_canceled", message=CANCELED_MESSAGE
        )
    raise GatewayUnavailable(
        f"PayPal's authorization of order {order_id} is {status}",
        code="gateway_outcome_unknown",
    )


def _classify(err: PayPalError, operation: str) -> Exception:
    """A PayPal refusal as one of our exceptions (the table in the module docstring)."""
    issue = err.issue or ""
    if issue == "DUPLICATE_REQUEST_ID":
        return Conflict(
            "This idempotency key was already used with different parameters.",
            code="idempotency_key_reused",
        )
    if err.status == 404 or err.name == "RESOURCE_NOT_FOUND":
        if operation == "create_payment":
            return ValidationFailed(err.message, code="invalid_payment_method")
        return NotFound("No such payment at PayPal.", code="resource_missing")
    if issue == "AUTHORIZATION_EXPIRED":
        return Conflict("The authorization has expired.", code="authorization_expired")
    if issue in _STATE_ISSUES:
        return Conflict(f"PayPal refused: {err.message}", code="invalid_state")
    if issue == "CAPTURE_FULLY_REFUNDED":
        return Conflict("The payment is already fully refunded.", code="charge_already_refunded")
    if issue == "REFUND_AMOUNT_EXCEEDED":
        return ValidationFailed(
            "The refund is more than what remains of the payment at PayPal.",
            code="refund_amount_exceeded",
            param="amount",
        )
    log.warning("paypal %s rejected: %s", operation, err)
    return GatewayUnavailable(
        f"PayPal rejected the request ({issue or err.name}).", code="gateway_request_rejected"
    )
