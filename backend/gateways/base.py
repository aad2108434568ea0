"""One interface for every payment processor.

A gateway moves money and reports what happened; it never touches the database. The service
layer (backend.services.payments.charges) decides what to do with each outcome, and routing
(backend.services.payments.routing) decides which gateway to try and when to fail over.

Outcomes are values, not exceptions, except for one: `GatewayUnavailable` means the processor
could not be reached or answered with an error of its own, so the next gateway may be tried.
A card decline is an ordinary outcome and is never retried elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

# GatewayUnavailable codes after which the processor may have acted: the request was sent and
# no answer came back (read timeout, reset connection, 5xx). Trying another gateway then could
# charge the customer twice, so routing retries the same gateway with the same idempotency key
# instead. Every other code means the request was never accepted and failing over is safe.
OUTCOME_UNKNOWN_CODES = frozenset(
    {"gateway_timeout", "gateway_connection_lost", "gateway_error", "gateway_outcome_unknown"}
)


class GatewayUnavailable(Exception):
    """The processor failed (unreachable, timeout, 5xx, bad credentials...), not the card."""

    def __init__(self, message: str, *, code: str = "gateway_unavailable"):
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def outcome_unknown(self) -> bool:
        return self.code in OUTCOME_UNKNOWN_CODES


class Outcome(StrEnum):
    AUTHORIZED = "authorized"  # hold placed, capture later
    SUCCEEDED = "succeeded"  # captured
    REQUIRES_ACTION = "requires_action"  # customer authentication (3-D Secure) needed
    DECLINED = "declined"


class RiskTest(StrEnum):
    """The risk outcome a test card asks for, as Stripe's Radar test cards do (test mode only)."""

    ALWAYS_BLOCK = "always_block"
    ELEVATED_RISK = "elevated_risk"


@dataclass(frozen=True)
class CardDetails:
    """What may be stored about a card: never the number or the CVC."""

    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None
    fingerprint: str | None = None
    country: str | None = None
    # Set by a test processor on its risk test cards; never stored.
    risk_test: RiskTest | None = None


@dataclass(frozen=True)
class PaymentRequest:
    amount: int
    currency: str
    payment_method_type: str  # "card"
    payment_method_token: str  # sandbox: a test card number or pm_card_*; Stripe: pm_...
    capture: bool  # True: authorize and capture at once
    idempotency_key: str  # passed to processors that support it (Stripe does)
    description: str | None = None
    customer_email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentResult:
    outcome: Outcome
    gateway_payment_id: str | None
    card: CardDetails | None = None
    decline_code: str | None = None  # card_declined, insufficient_funds, expired_card, ...
    message: str | None = None  # for the customer: what happened and what to do
    dispute_expected: bool = False  # sandbox: a card that is disputed after it succeeds


class RefundState(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # on its way back to the customer; may still fail later
    FAILED = "failed"


@dataclass(frozen=True)
class RefundResult:
    gateway_refund_id: str
    state: RefundState
    failure_reason: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == RefundState.SUCCEEDED


class Gateway(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> PaymentResult: ...

    def capture(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> PaymentResult: ...

    def void(self, gateway_payment_id: str, *, idempotency_key: str) -> None: ...

    def refund(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> RefundResult: ...

    def card_details(self, token: str) -> CardDetails | None:
        """Card facts known before charging (for risk rules), when the token reveals them."""
        ...

    def retrieve(self, gateway_payment_id: str) -> PaymentResult:
        """The payment's state at the processor now (GatewayUnavailable if it keeps none)."""
        ...

    def complete_action(
        self, gateway_payment_id: str, approved: bool | None, *, capture: bool
    ) -> PaymentResult:
        """The end of the customer's authentication (3-D Secure) of a REQUIRES_ACTION payment.

        `approved` is the customer's answer where the processor asks us for it (the sandbox);
        None where the customer answered the processor directly in the browser (Stripe)."""
        ...

    def client_secret(self, gateway_payment_id: str) -> str | None:
        """The secret the browser needs to finish the customer's step with the processor's own
        script (Stripe's handleNextAction), or None for processors that need none."""
        ...
