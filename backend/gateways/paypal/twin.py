"""The offline twin of PayPal for test mode without PayPal credentials (`make run`).

It behaves as PayPalGateway does from the outside: a new payment waits for the buyer's approval
(REQUIRES_ACTION), and the buyer's answer decides it. The approval step is our own page (the
hosted checkout's approve / cancel step, as for the sandbox's 3-D Secure), so `action_url` is
None and `complete_action` takes the buyer's answer: approved -> SUCCEEDED (or AUTHORIZED for an
authorize-only payment), cancelled -> DECLINED `payment_canceled`, no answer yet -> still
REQUIRES_ACTION.

Stateless like the sandbox processor: ids are random ("sbxpp_..."), and capture, void, refund
work from the id alone; the service layer keeps the state. What PayPal cannot do (saved cards,
disputes through our API, payouts) raises UnsupportedOperation, as PayPalGateway does.
"""

from __future__ import annotations

import re
from datetime import datetime

from backend.core.errors import ValidationFailed
from backend.core.security import random_token
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
from backend.gateways.paypal.gateway import (
    APPROVE_MESSAGE,
    CANCELED_MESSAGE,
    PAYMENT_METHOD_TYPE,
    to_value,
)

ORDER_PREFIX = "sbxpp_"
REFUND_PREFIX = "sbxpprf_"
_TWIN_ID = re.compile(r"sbxpp_[0-9A-Za-z]{8,64}")


class PayPalTwin:
    name = "paypal"

    def _order_id(self, gateway_payment_id: object) -> str:
        if not isinstance(gateway_payment_id, str) or not _TWIN_ID.fullmatch(gateway_payment_id):
            raise GatewayUnavailable(
                "No such PayPal twin order: the id was not issued by the twin",
                code="resource_missing",
            )
        return gateway_payment_id

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
        to_value(request.amount, request.currency)  # the checks PayPal's would make
        order_id = ORDER_PREFIX + random_token(20)
        return PaymentResult(Outcome.REQUIRES_ACTION, order_id, message=APPROVE_MESSAGE)

    def complete_action(
        self, gateway_payment_id: str, approved: bool | None, *, capture: bool
    ) -> PaymentResult:
        order_id = self._order_id(gateway_payment_id)
        if approved is None:
            return PaymentResult(Outcome.REQUIRES_ACTION, order_id, message=APPROVE_MESSAGE)
        if approved:
            return PaymentResult(Outcome.SUCCEEDED if capture else Outcome.AUTHORIZED, order_id)
        return PaymentResult(
            Outcome.DECLINED, order_id, decline_code="payment_canceled", message=CANCELED_MESSAGE
        )

    def capture(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> PaymentResult:
        to_value(amount, currency)
        return PaymentResult(Outcome.SUCCEEDED, self._order_id(gateway_payment_id))

    def void(self, gateway_payment_id: str, *, idempotency_key: str) -> None:
        self._order_id(gateway_payment_id)

    def refund(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> RefundResult:
        to_value(amount, currency)
        self._order_id(gateway_payment_id)
        return RefundResult(REFUND_PREFIX + random_token(20), RefundState.SUCCEEDED)

    def retrieve(self, gateway_payment_id: str) -> PaymentResult:
        self._order_id(gateway_payment_id)
        raise GatewayUnavailable(
            "The PayPal twin keeps no orders to look up", code="resource_missing"
        )

    def action_url(self, gateway_payment_id: str) -> str | None:
        return None  # the approval step is the checkout's own page

    def card_details(self, token: str) -> CardDetails | None:
        return None

    def client_secret(self, gateway_payment_id: str) -> str | None:
        return None

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
        raise UnsupportedOperation("PayPal disputes are answered in PayPal's Resolution Center")

    def accept_dispute(self, gateway_dispute_id: str) -> DisputeState:
        raise UnsupportedOperation("PayPal disputes are answered in PayPal's Resolution Center")

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
