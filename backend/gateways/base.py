"""One interface for every payment processor.

A gateway moves money and reports what happened; it never touches the database. The service
layer (backend.services.payments.charges) decides what to do with each outcome, and routing
(backend.services.payments.routing) decides which gateway to try and when to fail over.

Operations a processor cannot perform at all raise `UnsupportedOperation` (a ValidationFailed,
422 `processor_unsupported`): the protocol stays complete, no caller probes with hasattr.

Outcomes are values, not exceptions, except for one: `GatewayUnavailable` means the processor
could not be reached or answered with an error of its own, so the next gateway may be tried.
A card decline is an ordinary outcome and is never retried elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from backend.core.errors import ValidationFailed

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


class UnsupportedOperation(ValidationFailed):
    """The processor cannot do this at all (PayPal: saving cards for off-session charges,
    dispute evidence through our API, listing payouts). A 422 for the caller, never a reason to
    fail over: no processor was asked."""

    code = "processor_unsupported"


class Outcome(StrEnum):
    AUTHORIZED = "authorized"  # hold placed, capture later
    SUCCEEDED = "succeeded"  # captured
    REQUIRES_ACTION = "requires_action"  # customer authentication (3-D Secure) needed
    # A bank debit (ACH) was sent to the customer's bank, which answers days later.
    PROCESSING = "processing"
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
    # The wallet that tokenised the card (Stripe's card.wallet.type: "apple_pay",
    # "google_pay"...); None for a card typed in.
    wallet: str | None = None


@dataclass(frozen=True)
class BankAccountDetails:
    """What may be stored about a debited bank account: never its full number."""

    bank_name: str
    last4: str
    account_type: str | None = None  # checking or savings


@dataclass(frozen=True)
class MandateAcceptance:
    """The customer's online authorisation of a bank debit (Stripe's mandate_data
    customer_acceptance, type online): when, from which address and browser."""

    accepted_at: datetime
    ip_address: str
    user_agent: str


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
    # A saved card: payment_method_token is then the processor's payment method id of a card
    # saved under this processor customer (save_card).
    gateway_customer_id: str | None = None
    # The customer is not there (a renewal, an invoice): the processor must not ask for
    # authentication. A card whose issuer insists ends in REQUIRES_ACTION with decline_code
    # "authentication_required": the customer has to come back and confirm it.
    off_session: bool = False
    # Where a processor with its own approval page (PayPal) sends the customer back after
    # approving / cancelling. None: the processor's default (our APP_URL).
    return_url: str | None = None
    cancel_url: str | None = None
    # The customer agreed to have the card saved for later charges without them (the
    # checkout's "save for future payments"): the processor keeps the card under
    # gateway_customer_id while charging it (Stripe: setup_future_usage=off_session) and the
    # result names the saved method (PaymentResult.saved_payment_method_id).
    setup_future_usage: bool = False
    # A bank debit (payment_method_type "bank"): the customer's authorisation, required.
    mandate: MandateAcceptance | None = None


@dataclass(frozen=True)
class SetupResult:
    """A card saved under a processor customer for later charges, or refused by its issuer.

    Saved: `gateway_payment_method_id` is set and `decline_code` is None. Refused: the decline
    code and the customer's message say why, as for a payment. `authentication_required`: the
    card was saved, but its issuer asks the customer to authenticate every charge, off session
    too (Stripe's 4000 0027 6000 3184), so such charges end in REQUIRES_ACTION."""

    gateway_payment_method_id: str | None
    card: CardDetails | None
    decline_code: str | None = None
    message: str | None = None
    authentication_required: bool = False

    @property
    def saved(self) -> bool:
        return self.decline_code is None and self.gateway_payment_method_id is not None


@dataclass(frozen=True)
class PaymentResult:
    outcome: Outcome
    gateway_payment_id: str | None
    card: CardDetails | None = None
    decline_code: str | None = None  # card_declined, insufficient_funds, expired_card, ...
    message: str | None = None  # for the customer: what happened and what to do
    dispute_expected: bool = False  # sandbox: a card that is disputed after it succeeds
    # With setup_future_usage, on success: the processor's id of the card saved for the
    # customer (a SetupResult's gateway_payment_method_id), and whether its issuer asks for
    # authentication on every charge.
    saved_payment_method_id: str | None = None
    saved_authentication_required: bool = False
    # A bank debit: the account debited, and the processor's mandate id when it keeps one.
    # A debit that fails (DECLINED) carries the ACH return code (R01, R02...) as decline_code,
    # also when the bank returns it after it SUCCEEDED.
    bank: BankAccountDetails | None = None
    gateway_mandate_id: str | None = None


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


class DisputeStage(StrEnum):
    """Where a dispute stands at the processor. The values are our DisputeStatus's, so the
    service layer maps one onto the other by value (gateways may not import models)."""

    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"  # evidence submitted, the bank has not decided
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class DisputeState:
    """A dispute as the processor reports it after a submission or an acceptance."""

    gateway_dispute_id: str
    stage: DisputeStage

    @property
    def decided(self) -> bool:
        return self.stage in (DisputeStage.WON, DisputeStage.LOST)


class EvidenceKind(StrEnum):
    """What an evidence file shows: each is one of Stripe's evidence file fields, which take one
    file apiece (combine several documents of one kind into one PDF)."""

    RECEIPT = "receipt"
    SHIPPING_DOCUMENTATION = "shipping_documentation"
    CUSTOMER_COMMUNICATION = "customer_communication"
    CUSTOMER_SIGNATURE = "customer_signature"
    REFUND_POLICY = "refund_policy"
    CANCELLATION_POLICY = "cancellation_policy"
    SERVICE_DOCUMENTATION = "service_documentation"
    DUPLICATE_CHARGE_DOCUMENTATION = "duplicate_charge_documentation"
    UNCATEGORIZED = "uncategorized_file"


@dataclass(frozen=True)
class EvidenceFile:
    """One document of the merchant's response, with its bytes (already checked to be a PDF,
    PNG or JPEG by the service layer)."""

    filename: str
    content_type: str
    data: bytes
    kind: EvidenceKind = EvidenceKind.UNCATEGORIZED


@dataclass(frozen=True)
class DisputeEvidence:
    """The text of the merchant's response, named as Stripe names its evidence fields; None
    fields are not sent. `uncategorized_text` carries the merchant's own explanation."""

    uncategorized_text: str | None = None
    product_description: str | None = None
    customer_email_address: str | None = None
    customer_name: str | None = None
    shipping_tracking_number: str | None = None
    shipping_carrier: str | None = None
    service_date: str | None = None

    def text_fields(self) -> dict[str, str]:
        """The filled-in text fields, by Stripe's names."""
        fields = {
            "uncategorized_text": self.uncategorized_text,
            "product_description": self.product_description,
            "customer_email_address": self.customer_email_address,
            "customer_name": self.customer_name,
            "shipping_tracking_number": self.shipping_tracking_number,
            "shipping_carrier": self.shipping_carrier,
            "service_date": self.service_date,
        }
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class ProcessorPayout:
    """A payout of the processor account's balance to its bank account. Currencies upper-case,
    amounts in the minor unit, times in UTC."""

    id: str
    amount: int
    currency: str
    status: str  # paid, pending, in_transit, canceled, failed
    arrival_date: datetime
    created: datetime
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class ProcessorBalanceTransaction:
    """One movement of the processor account's balance (a charge, refund, dispute, fee,
    payout...). `source_id` is the PaymentIntent id for charges where the processor tells it
    (what our payments store), else the processor's own object id (refund, dispute, payout)."""

    id: str
    type: str
    amount: int
    fee: int
    net: int
    currency: str
    source_id: str | None
    available_on: datetime
    created: datetime
    payout_id: str | None = None


class Gateway(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> PaymentResult: ...

    def create_customer(
        self, *, email: str | None, name: str | None, reference: str, idempotency_key: str
    ) -> str:
        """A customer at the processor, to save cards under; its id. `reference` is our
        customer's id (kept in the processor's metadata)."""
        ...

    def save_card(
        self, gateway_customer_id: str, token: str, *, idempotency_key: str
    ) -> SetupResult:
        """Save the card `token` stands for under the processor's customer, set up to be
        charged later without the customer (off session)."""
        ...

    def detach_card(self, gateway_payment_method_id: str, *, idempotency_key: str) -> None:
        """Remove a saved card from its customer at the processor (it can no longer be
        charged). A card already detached is no error."""
        ...

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

    def action_url(self, gateway_payment_id: str) -> str | None:
        """Where the customer's browser goes for the processor's own approval page (PayPal's
        payer-action link) of a REQUIRES_ACTION payment; None when the step happens on our own
        page (the sandbox, the PayPal twin) or through the processor's script (Stripe)."""
        ...

    def submit_dispute(
        self, gateway_dispute_id: str, evidence: DisputeEvidence, files: list[EvidenceFile]
    ) -> DisputeState:
        """Send the merchant's response to the bank; no change is possible afterwards. The
        state says whether the processor already decided (the sandbox does at once)."""
        ...

    def accept_dispute(self, gateway_dispute_id: str) -> DisputeState:
        """Concede the dispute: the money stays with the customer (LOST)."""
        ...

    def list_payouts(
        self, created_after: datetime | None = None, limit: int = 100
    ) -> list[ProcessorPayout]:
        """The account's payouts, newest first, at most `limit`, all pages read."""
        ...

    def list_balance_transactions(
        self,
        payout_id: str | None = None,
        created_after: datetime | None = None,
        limit: int = 1000,
    ) -> list[ProcessorBalanceTransaction]:
        """The balance movements, newest first, at most `limit`: those a payout paid out when
        `payout_id` is given, all pages read."""
        ...
