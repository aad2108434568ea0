"""Stripe behind the Gateway interface, through the official SDK (stripe-python 16, StripeClient).

One PaymentIntent per payment, created and confirmed server-side in one call with the
PaymentMethod the browser made (Payment Element / Stripe.js): card numbers never reach us, and
tokens that look like anything else are refused before a request is sent.

Every mutating call carries the caller's idempotency key, so a retry with the same key can never
charge, capture or refund twice: Stripe replays the first answer.

How Stripe's answers map onto ours
----------------------------------

======================================  ==================================  =====================
Stripe                                  We return / raise                   code
======================================  ==================================  =====================
PaymentIntent succeeded                 PaymentResult SUCCEEDED
PaymentIntent requires_capture          PaymentResult AUTHORIZED
PaymentIntent requires_action           PaymentResult REQUIRES_ACTION
PaymentIntent requires_payment_method   PaymentResult DECLINED              last_payment_error
CardError (402)                         PaymentResult DECLINED              decline_code, else
                                                                            code (generic_decline
                                                                            -> card_declined)
PaymentIntent processing /              GatewayUnavailable                  gateway_outcome_unknown
  requires_confirmation
IdempotencyError (same key, new body)   Conflict                            idempotency_key_reused
InvalidRequestError amount_too_small /  ValidationFailed (param amount)     same as Stripe's
  amount_too_large
InvalidRequestError resource_missing    ValidationFailed on create          invalid_payment_method
                                        NotFound on capture/void/refund     resource_missing
InvalidRequestError                     ValidationFailed                    invalid_payment_method
  payment_method_unexpected_state
InvalidRequestError                     Conflict (void of a canceled        invalid_state
  payment_intent_unexpected_state         PaymentIntent returns quietly)
InvalidRequestError                     Conflict                            charge_already_refunded
  charge_already_refunded
InvalidRequestError                     Conflict                            authorization_expired
  charge_expired_for_capture
InvalidRequestError, any other code     GatewayUnavailable                  gateway_request_rejected
AuthenticationError (401),              GatewayUnavailable                  gateway_auth_failed
  PermissionError (403)
RateLimitError (429)                    GatewayUnavailable                  gateway_rate_limited
APIConnectionError before the request   GatewayUnavailable                  gateway_unreachable
  was sent (refused, DNS, TLS,
  connect timeout)
APIConnectionError: read timeout        GatewayUnavailable                  gateway_timeout
APIConnectionError: connection dropped  GatewayUnavailable                  gateway_connection_lost
APIError (5xx), any other StripeError   GatewayUnavailable                  gateway_error
On a dispute (submit, accept):
InvalidRequestError resource_missing    NotFound                            resource_missing
InvalidRequestError                     ValidationFailed (param files)      same as Stripe's
  dispute_evidence_page_limit_exceeded
InvalidRequestError, any other code     Conflict, with Stripe's message     dispute_refused
  (already closed, already submitted,
  evidence past its deadline...)
======================================  ==================================  =====================

Not processed, safe to send to another gateway: gateway_unreachable, gateway_rate_limited,
gateway_auth_failed, gateway_request_rejected. Outcome unknown (OUTCOME_UNKNOWN_CODES): Stripe
may have moved the money. Retry the same gateway with the same idempotency key (Stripe replays
the first answer), or reconcile later; sending the payment to another gateway could charge the
customer twice.

Saved cards: `create_customer` makes a Stripe Customer (once per customer and processor
configuration; the caller keeps its id). `save_card` confirms a SetupIntent for that customer
with `usage="off_session"`: Stripe's recommended way to save a card for later, because it runs
whatever the issuer asks for at set-up (a verification, a mandate, 3-D Secure) and marks the card
as set up for merchant-initiated charges, which issuers then decline less often; attaching a
PaymentMethod directly (`payment_methods.attach`) skips all that. A SetupIntent that needs the
customer's authentication (`requires_action`) cannot be finished through the API, where the
customer is not there: the PaymentMethod is then attached directly, reported with
`authentication_required`, and each later charge off session asks for the customer
(authentication_required). A card the issuer refuses at set-up comes back as a SetupResult with
its decline code. `detach_card` detaches the PaymentMethod; one already detached is no error.
A saved card is charged with `customer` and, when the customer is not there, `off_session=true`
(PaymentRequest); a CardError `authentication_required` then becomes REQUIRES_ACTION with that
decline code (the PaymentIntent waits, in requires_payment_method, for the customer to confirm
it on session).

Disputes: `submit_dispute` uploads each evidence file (purpose dispute_evidence) to Stripe's files
host, then updates the dispute with the text fields and the file ids and `submit=true`. Every
request carries an idempotency key derived from what it sends, so a retry after a lost answer
uploads nothing twice and replays the submission. Stripe takes one file per evidence field
(`EvidenceKind`): two files of one kind are refused before anything is sent.

Payouts and balance transactions are read page by page (`starting_after`) until `limit`. A
balance transaction's source is expanded so that a charge's is reported as its PaymentIntent
(what our payments store); the other sources keep their own ids (re_, dp_, po_...).

Unlisted InvalidRequestErrors (unsupported currency, account not enabled for live charges,
unknown parameter) become GatewayUnavailable: Stripe refused before doing anything, another gateway
may well accept, and the code tells operators to look at the integration.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import requests
import stripe
from urllib3.exceptions import NewConnectionError

from backend.core.config import Settings, get_settings
from backend.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from backend.gateways.base import (
    BankAccountDetails,
    CardDetails,
    DisputeEvidence,
    DisputeStage,
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
)

log = logging.getLogger(__name__)


# What Stripe can charge server-side: PaymentMethods, legacy tokens and sources. Anything else
# (a card number above all) is refused without a request, so it can never leave our servers.
_STRIPE_TOKEN = re.compile(r"(pm|tok|card|src)_[A-Za-z0-9_]+")
_EXPAND = ["latest_charge", "payment_method"]
_BANK_TOKEN = re.compile(r"btok_[A-Za-z0-9_]{4,200}")
# Stripe's ACH failure codes (a charge's failure_code) and the NACHA return codes they stand for.
ACH_RETURN_CODES = {
    "insufficient_funds": "R01",
    "account_closed": "R02",
    "no_account": "R03",
    "invalid_account_number": "R04",
    "debit_not_authorized": "R10",
    "bank_account_restricted": "R16",
    "account_frozen": "R16",
}

_GENERIC_DECLINE = "Your card was declined. Please use a different card or contact your bank."
# Lost, stolen, fraudulent... get the generic message, as Stripe recommends: the customer
# learns nothing a fraudster could use, the merchant still sees the precise decline_code.
_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds. Please use a different card.",
    "expired_card": "Your card has expired. Please check the expiry date or use another card.",
    "incorrect_cvc": "Your card's security code is incorrect. Please check it and try again.",
    "invalid_cvc": "Your card's security code is invalid. Please check it and try again.",
    "incorrect_number": "Your card number is incorrect. Please check it and try again.",
    "invalid_expiry_month": "Your card's expiry date is invalid. Please check it.",
    "invalid_expiry_year": "Your card's expiry date is invalid. Please check it.",
    "processing_error": "We couldn't process your card. Please try again in a moment.",
    "authentication_required": "Your bank needs you to confirm this payment. Please try again.",
    "authentication_failed": (
        "Your bank could not confirm this payment. Please try again or use a different card."
    ),
    "payment_canceled": "This payment was canceled.",
}
_ACTION_MESSAGE = "Your bank needs you to confirm this payment."

# Stripe's dispute statuses as our stages. An inquiry (warning_*) moves no money; one that
# closes without a chargeback counts as won.
_DISPUTE_STAGES = {
    "warning_needs_response": DisputeStage.NEEDS_RESPONSE,
    "needs_response": DisputeStage.NEEDS_RESPONSE,
    "warning_under_review": DisputeStage.UNDER_REVIEW,
    "under_review": DisputeStage.UNDER_REVIEW,
    "warning_closed": DisputeStage.WON,
    "won": DisputeStage.WON,
    "lost": DisputeStage.LOST,
}
_DISPUTE_OPERATIONS = ("submit_dispute", "accept_dispute")
_PAGE_SIZE = 100  # Stripe's largest page


def client(
    secret_key: str,
    api_base: str | None,
    http_client: stripe.HTTPClient,
    max_network_retries: int = 0,
) -> stripe.StripeClient:
    """The SDK's client for one secret key, at `api_base` when given (a local fake)."""
    # File uploads go to Stripe's files host (files.stripe.com): a local fake serves both.
    bases = {"api": api_base, "files": api_base} if api_base else None
    return stripe.StripeClient(
        secret_key,
        base_addresses=bases,  # type: ignore[arg-type]
        max_network_retries=max_network_retries,
        http_client=http_client,
    )


class StripeGateway:
    """The Gateway protocol of backend.gateways.base on Stripe's PaymentIntents API.

    Thread-safe: one instance per secret key can serve every request (the SDK keeps one HTTP
    session per thread).
    """

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        *,
        max_network_retries: int = 0,
    ):
        if not secret_key.startswith(("sk_", "rk_")):
            raise ValueError("A Stripe secret key (sk_...) or restricted key (rk_...) is required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.api_base = api_base.rstrip("/") if api_base else None
        self.timeout = timeout
        self.livemode = "_live_" in secret_key
        # Our own requests-based client, for its timeout (the SDK's default waits 80 s) and so
        # that connection errors keep their requests/urllib3 cause (see _connection_error).
        self._http = stripe.RequestsClient(timeout=timeout)
        self._client = client(secret_key, self.api_base, self._http, max_network_retries)

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, secret_key: str | None = None
    ) -> StripeGateway:
        """The platform's Stripe account (STRIPE_SECRET_KEY), or a merchant's own secret_key,
        at STRIPE_API_BASE when it is set (a local fake in tests), else api.stripe.com."""
        settings = settings or get_settings()
        key = secret_key or settings.stripe_secret_key
        if not key:
            raise RuntimeError("STRIPE_SECRET_KEY is not set: Stripe is disabled, use the sandbox")
        return cls(key, api_base=settings.stripe_api_base)

    def close(self) -> None:
        self._http.close()

    # -- the Gateway protocol --------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        if request.payment_method_type == "bank":
            return self._debit_bank(request)
        if not _STRIPE_TOKEN.fullmatch(request.payment_method_token):
            raise ValidationFailed(
                "This payment method can't be charged through Stripe.",
                code="invalid_payment_method",
                param="payment_method",
            )
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": request.payment_method_token,
            # Explicit types rather than automatic_payment_methods: a server-side confirm with
            # automatic methods needs a return_url (redirect methods), which we cannot serve here.
            "payment_method_types": [request.payment_method_type],
            "confirm": True,
            "capture_method": "automatic" if request.capture else "manual",
            "expand": _EXPAND,
        }
        if request.description:
            params["description"] = request.description
        if request.metadata:
            params["metadata"] = dict(request.metadata)
        if request.gateway_customer_id:
            params["customer"] = request.gateway_customer_id
        if request.off_session:
            params["off_session"] = True
        if request.setup_future_usage:
            # Saved for the customer as the PaymentIntent succeeds (Stripe attaches the
            # PaymentMethod to `customer`), ready for off-session charges.
            params["setup_future_usage"] = "off_session"
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as err:
            declined = _declined(err)
            if request.off_session and declined.decline_code == "authentication_required":
                # Not a refusal: the customer must come back and confirm the PaymentIntent.
                return replace(declined, outcome=Outcome.REQUIRES_ACTION, message=_ACTION_MESSAGE)
            return declined
        except stripe.StripeError as err:
            raise _translate(err, "create_payment") from err
        result = _result(intent)
        if request.setup_future_usage and result.outcome in (Outcome.SUCCEEDED, Outcome.AUTHORIZED):
            method = _field(intent, "payment_method")
            method_id = method if isinstance(method, str) else getattr(method, "id", None)
            result = replace(result, saved_payment_method_id=method_id)
        return result

    def _debit_bank(self, request: PaymentRequest) -> PaymentResult:
        """An ACH debit of the account behind Plaid's Stripe bank account token: the token
        becomes the bank account (a source, ba_...) of a new Stripe customer, which a
        PaymentIntent for us_bank_account debits under the customer's online mandate. Stripe
        answers `processing`; its events bring the outcome days later."""
        token, mandate = request.payment_method_token, request.mandate
        if not _BANK_TOKEN.fullmatch(token) or mandate is None or request.currency != "USD":
            raise ValidationFailed(
                "A bank payment through Stripe needs Plaid's bank account token (btok_...), "
                "US dollars and the customer's mandate",
                code="invalid_payment_method",
                param="paymentMethod.token",
            )
        customer_params: dict[str, Any] = {
            "source": token,
            "metadata": dict(request.metadata),
            "expand": ["default_source"],
        }
        if request.customer_email:
            customer_params["email"] = request.customer_email
        try:
            customer = self._client.v1.customers.create(
                params=customer_params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{request.idempotency_key}:bank_customer"},
            )
            source = _field(customer, "default_source")
            params: dict[str, Any] = {
                "amount": request.amount,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": source if isinstance(source, str) else source.id,
                "payment_method_types": ["us_bank_account"],
                "confirm": True,
                "mandate_data": {
                    "customer_acceptance": {
                        "type": "online",
                        "accepted_at": int(mandate.accepted_at.timestamp()),
                        "online": {
                            "ip_address": mandate.ip_address,
                            "user_agent": mandate.user_agent,
                        },
                    }
                },
                "expand": ["latest_charge"],
            }
            if request.description:
                params["description"] = request.description
            if request.metadata:
                params["metadata"] = dict(request.metadata)
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as err:
            raise _translate(err, "create_payment") from err
        return _bank_result(intent, source)

    def create_customer(
        self, *, email: str | None, name: str | None, reference: str, idempotency_key: str
    ) -> str:
        params: dict[str, Any] = {"metadata": {"payportal_customer": reference}}
        if email:
            params["email"] = email
        if name:
            params["name"] = name
        try:
            customer = self._client.v1.customers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as err:
            raise _translate(err, "create_customer") from err
        return customer.id

    def save_card(
        self, gateway_customer_id: str, token: str, *, idempotency_key: str
    ) -> SetupResult:
        """A SetupIntent for off-session use, confirmed now (see the module docstring)."""
        if not _STRIPE_TOKEN.fullmatch(token):
            raise ValidationFailed(
                "This payment method can't be saved through Stripe.",
                code="invalid_payment_method",
                param="payment_method",
            )
        params: dict[str, Any] = {
            "customer": gateway_customer_id,
            "payment_method": token,
            "payment_method_types": ["card"],
            "usage": "off_session",
            "confirm": True,
            "expand": ["payment_method"],
        }
        try:
            intent = self._client.v1.setup_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
            status = intent.status
            method = _field(intent, "payment_method")
            if status == "succeeded":
                return SetupResult(method.id, _card(_field(method, "card")))
            if status == "requires_action":
                attached = self._client.v1.payment_methods.attach(
                    method.id,
                    params={"customer": gateway_customer_id},
                    options={"idempotency_key": f"{idempotency_key}:attach"},
                )
                card = _card(_field(attached, "card"))
                return SetupResult(attached.id, card, authentication_required=True)
        except stripe.CardError as err:
            declined = _declined(err)
            return SetupResult(
                None, declined.card, decline_code=declined.decline_code, message=declined.message
            )
        except stripe.StripeError as err:
            raise _translate(err, "save_card") from err
        error = _field(intent, "last_setup_error")
        if status == "requires_payment_method" and error is not None:
            code = decline_code(_field(error, "code"), _field(error, "decline_code"))
            return SetupResult(None, None, decline_code=code, message=decline_message(code))
        raise GatewayUnavailable(
            f"Stripe left setup {intent.id} in status {status}", code="gateway_outcome_unknown"
        )

    def detach_card(self, gateway_payment_method_id: str, *, idempotency_key: str) -> None:
        try:
            self._client.v1.payment_methods.detach(
                gateway_payment_method_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as err:
            if err.code in ("payment_method_unexpected_state", "resource_missing"):
                return  # not attached (any more): the outcome the caller asked for
            raise _translate(err, "detach_card") from err
        except stripe.StripeError as err:
            raise _translate(err, "detach_card") from err

    def capture(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> PaymentResult:
        # Stripe knows the currency of the PaymentIntent; `currency` is not sent.
        try:
            intent = self._client.v1.payment_intents.capture(
                gateway_payment_id,
                params={"amount_to_capture": amount, "expand": _EXPAND},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as err:
            return _declined(err)
        except stripe.StripeError as err:
            raise _translate(err, "capture") from err
        return _result(intent)

    def void(self, gateway_payment_id: str, *, idempotency_key: str) -> None:
        try:
            self._client.v1.payment_intents.cancel(
                gateway_payment_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as err:
            if err.code == "payment_intent_unexpected_state" and _error_intent_status(err) == (
                "canceled"
            ):
                return  # already voided: the outcome the caller asked for
            raise _translate(err, "void") from err
        except stripe.StripeError as err:
            raise _translate(err, "void") from err

    def refund(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> RefundResult:
        try:
            refund = self._client.v1.refunds.create(
                params={"payment_intent": gateway_payment_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as err:
            raise _translate(err, "refund") from err
        if refund.status == "succeeded":
            return RefundResult(refund.id, RefundState.SUCCEEDED)
        if refund.status in ("failed", "canceled"):
            reason = _field(refund, "failure_reason") or refund.status
            return RefundResult(refund.id, RefundState.FAILED, failure_reason=reason)
        # pending / requires_action: not failed, not done yet; the refund.updated webhook
        # settles it.
        return RefundResult(refund.id, RefundState.PENDING)

    def card_details(self, token: str) -> CardDetails | None:
        """Brand, last4, country and fingerprint of a PaymentMethod before it is charged, so risk
        rules (card fingerprint and country blocklists) can refuse before money moves.

        One GET per payment. A failed lookup returns None (risk rules run without card facts)
        rather than blocking the payment: create_payment reports a real Stripe problem.
        """
        if not token.startswith("pm_") or not _STRIPE_TOKEN.fullmatch(token):
            return None
        try:
            method = self._client.v1.payment_methods.retrieve(token)
        except stripe.StripeError as err:
            log.warning("stripe card_details lookup failed: %s", type(err).__name__)
            return None
        return _card(_field(method, "card"))

    def retrieve(self, gateway_payment_id: str) -> PaymentResult:
        """The PaymentIntent's current state: after 3-D Secure, or to settle an unknown outcome."""
        try:
            intent = self._client.v1.payment_intents.retrieve(
                gateway_payment_id, params={"expand": _EXPAND}
            )
        except stripe.StripeError as err:
            raise _translate(err, "retrieve") from err
        if list(_field(intent, "payment_method_types") or ()) == ["us_bank_account"]:
            return _bank_result(intent, None)
        return _result(intent)

    def complete_action(
        self, gateway_payment_id: str, approved: bool | None, *, capture: bool
    ) -> PaymentResult:
        """The customer answered Stripe in the browser (stripe.handleNextAction): the
        PaymentIntent now says how it ended."""
        return self.retrieve(gateway_payment_id)

    def client_secret(self, gateway_payment_id: str) -> str | None:
        """The PaymentIntent's client secret, for stripe.handleNextAction in the browser."""
        try:
            intent = self._client.v1.payment_intents.retrieve(gateway_payment_id)
        except stripe.StripeError:
            return None
        return getattr(intent, "client_secret", None)

    def action_url(self, gateway_payment_id: str) -> str | None:
        """None: Stripe's step runs in the page through handleNextAction (client_secret)."""
        return None

    def submit_dispute(
        self, gateway_dispute_id: str, evidence: DisputeEvidence, files: list[EvidenceFile]
    ) -> DisputeState:
        fields: dict[str, str] = dict(evidence.text_fields())
        taken = [f.kind for f in files]
        if len(set(taken)) != len(taken):
            raise ValidationFailed(
                "Stripe takes one file of each kind of evidence: combine the documents into "
                "one PDF.",
                code="evidence_one_file_per_kind",
                param="files",
            )
        operation = "submit_dispute"
        try:
            for file in files:
                digest = hashlib.sha256(file.data).hexdigest()
                upload = io.BytesIO(file.data)
                upload.name = file.filename  # type: ignore[attr-defined]  # the part's filename
                uploaded = self._client.v1.files.create(
                    params={"purpose": "dispute_evidence", "file": upload},  # type: ignore[typeddict-item]
                    options={"idempotency_key": f"evidence-{gateway_dispute_id}-{digest}"},
                )
                fields[file.kind.value] = uploaded.id
            body = json.dumps(fields, sort_keys=True).encode()
            dispute = self._client.v1.disputes.update(
                gateway_dispute_id,
                params={"evidence": fields, "submit": True},  # type: ignore[typeddict-item]
                options={
                    "idempotency_key": (
                        f"submit-{gateway_dispute_id}-{hashlib.sha256(body).hexdigest()[:32]}"
                    )
                },
            )
        except stripe.StripeError as err:
            raise _translate(err, operation) from err
        return _dispute_state(dispute)

    def accept_dispute(self, gateway_dispute_id: str) -> DisputeState:
        try:
            dispute = self._client.v1.disputes.close(
                gateway_dispute_id, options={"idempotency_key": f"accept-{gateway_dispute_id}"}
            )
        except stripe.StripeError as err:
            raise _translate(err, "accept_dispute") from err
        return _dispute_state(dispute)

    def list_payouts(
        self, created_after: datetime | None = None, limit: int = 100
    ) -> list[ProcessorPayout]:
        params: dict[str, Any] = {"limit": min(limit, _PAGE_SIZE)}
        if created_after is not None:
            params["created"] = {"gt": int(created_after.timestamp())}
        return [
            ProcessorPayout(
                id=p.id,
                amount=p.amount,
                currency=p.currency.upper(),
                status=p.status,
                arrival_date=_utc(p.arrival_date),
                created=_utc(p.created),
                failure_code=_field(p, "failure_code"),
                failure_message=_field(p, "failure_message"),
            )
            for p in self._every(self._client.v1.payouts.list, params, limit, "list_payouts")
        ]

    def list_balance_transactions(
        self,
        payout_id: str | None = None,
        created_after: datetime | None = None,
        limit: int = 1000,
    ) -> list[ProcessorBalanceTransaction]:
        params: dict[str, Any] = {"limit": min(limit, _PAGE_SIZE), "expand": ["data.source"]}
        if payout_id is not None:
            params["payout"] = payout_id
        if created_after is not None:
            params["created"] = {"gt": int(created_after.timestamp())}
        listed = self._every(
            self._client.v1.balance_transactions.list, params, limit, "list_balance_transactions"
        )
        return [_balance_transaction(bt, payout_id) for bt in listed]

    def _every(self, list_page: Any, params: dict[str, Any], limit: int, operation: str) -> list:
        """Every object of a Stripe list, page after page (starting_after), up to `limit`."""
        found: list[Any] = []
        try:
            page = list_page(params=params)
            for obj in page.auto_paging_iter():
                found.append(obj)
                if len(found) >= limit:
                    break
        except stripe.StripeError as err:
            raise _translate(err, operation) from err
        return found


# -- mapping -------------------------------------------------------------------------------


def _result(intent: Any) -> PaymentResult:
    status, card = intent.status, _intent_card(intent)
    if status == "succeeded":
        return PaymentResult(Outcome.SUCCEEDED, intent.id, card=card)
    if status == "requires_capture":
        return PaymentResult(Outcome.AUTHORIZED, intent.id, card=card)
    if status == "requires_action":
        return PaymentResult(Outcome.REQUIRES_ACTION, intent.id, card=card, message=_ACTION_MESSAGE)
    if status in ("requires_payment_method", "canceled"):
        error = _field(intent, "last_payment_error")
        if error is None:
            code = "payment_canceled" if status == "canceled" else "card_declined"
        else:
            code = decline_code(_field(error, "code"), _field(error, "decline_code"))
        return PaymentResult(
            Outcome.DECLINED, intent.id, card=card, decline_code=code, message=decline_message(code)
        )
    # processing (asynchronous methods) or requires_confirmation: Stripe has not decided yet.
    raise GatewayUnavailable(
        f"Stripe left payment {intent.id} in status {status}", code="gateway_outcome_unknown"
    )


def ach_return_code(code: str | None) -> str:
    """The NACHA return code (R01...) of Stripe's ACH failure code; R01-style codes as given."""
    if code and re.fullmatch(r"R\d\d", code):
        return code
    return ACH_RETURN_CODES.get(code or "", "R01" if not code else code[:8])


def _bank_result(intent: Any, source: Any) -> PaymentResult:
    """A bank debit's PaymentIntent: processing, succeeded, or failed with its return code."""
    charge = _field(intent, "latest_charge")
    details = _field(_field(charge, "payment_method_details"), "us_bank_account")
    account = details if details is not None else source
    bank = None
    if _field(account, "last4"):
        bank = BankAccountDetails(
            str(_field(account, "bank_name") or "Bank")[:100],
            str(_field(account, "last4")),
            _field(details, "account_type") if details is not None else None,
        )
    mandate = _field(details, "mandate") if details is not None else None
    status = intent.status
    if status in ("processing", "succeeded"):
        outcome = Outcome.PROCESSING if status == "processing" else Outcome.SUCCEEDED
        return PaymentResult(outcome, intent.id, bank=bank, gateway_mandate_id=mandate)
    if status in ("requires_payment_method", "canceled"):
        error = _field(intent, "last_payment_error")
        code = ach_return_code(_field(charge, "failure_code") or _field(error, "code"))
        return PaymentResult(
            Outcome.DECLINED, intent.id, bank=bank, decline_code=code, gateway_mandate_id=mandate
        )
    raise GatewayUnavailable(
        f"Stripe left bank payment {intent.id} in status {status}", code="gateway_outcome_unknown"
    )


def _declined(err: stripe.CardError) -> PaymentResult:
    error = err.error
    intent = _field(error, "payment_intent")
    method = _field(error, "payment_method")
    code = decline_code(err.code, _field(error, "decline_code"))
    log.info("stripe declined: %s (request %s)", code, err.request_id)
    return PaymentResult(
        Outcome.DECLINED,
        gateway_payment_id=_field(intent, "id"),
        card=_card(_field(method, "card")) or (_intent_card(intent) if intent else None),
        decline_code=code,
        message=decline_message(code),
    )


def decline_code(code: str | None, decline_code: str | None) -> str:
    if decline_code and decline_code != "generic_decline":
        return decline_code
    if code == "payment_intent_authentication_failure":
        return "authentication_failed"
    return code or "card_declined"


def decline_message(code: str) -> str:
    return _DECLINE_MESSAGES.get(code, _GENERIC_DECLINE)


def _intent_card(intent: Any) -> CardDetails | None:
    charge = _field(intent, "latest_charge")
    if charge is not None and not isinstance(charge, str):
        card = _card(_field(_field(charge, "payment_method_details"), "card"))
        if card:
            return card
    method = _field(intent, "payment_method")
    if method is not None and not isinstance(method, str):
        return _card(_field(method, "card"))
    return None


def _card(card: Any) -> CardDetails | None:
    brand, last4 = _field(card, "brand"), _field(card, "last4")
    if not brand or not last4:
        return None
    return CardDetails(
        brand=brand,
        last4=last4,
        exp_month=_field(card, "exp_month"),
        exp_year=_field(card, "exp_year"),
        fingerprint=_field(card, "fingerprint"),
        country=_field(card, "country"),
        wallet=_field(_field(card, "wallet"), "type"),
    )


def dispute_stage(status: str | None) -> DisputeStage | None:
    """Our stage of a Stripe dispute status (None: a status we do not know)."""
    return _DISPUTE_STAGES.get(status or "")


def _dispute_state(dispute: Any) -> DisputeState:
    stage = dispute_stage(dispute.status)
    if stage is None:
        raise GatewayUnavailable(
            f"Stripe left dispute {dispute.id} in status {dispute.status}",
            code="gateway_outcome_unknown",
        )
    return DisputeState(dispute.id, stage)


def payout_from_event(obj: dict[str, Any]) -> ProcessorPayout:
    """A payout as an event's `data.object` shows it (plain JSON), in the values listing gives."""
    return ProcessorPayout(
        id=str(obj["id"]),
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        status=str(obj["status"]),
        arrival_date=_utc(int(obj["arrival_date"])),
        created=_utc(int(obj["created"])),
        failure_code=obj.get("failure_code"),
        failure_message=obj.get("failure_message"),
    )


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _balance_transaction(bt: Any, payout_id: str | None) -> ProcessorBalanceTransaction:
    source = _field(bt, "source")
    source_id = source if isinstance(source, str) or source is None else source.id
    if bt.type in ("charge", "payment") and not isinstance(source, str):
        intent = _field(source, "payment_intent")
        source_id = _field(intent, "id") or intent or source_id  # expanded or not
    if payout_id is None and bt.type == "payout":
        payout_id = source_id
    return ProcessorBalanceTransaction(
        id=bt.id,
        type=bt.type,
        amount=bt.amount,
        fee=bt.fee,
        net=bt.net,
        currency=bt.currency.upper(),
        source_id=source_id,
        available_on=_utc(bt.available_on),
        created=_utc(bt.created),
        payout_id=payout_id,
    )


def _field(obj: Any, name: str) -> Any:
    """A field of a StripeObject (not a dict in SDK 16), None when absent."""
    return None if obj is None else getattr(obj, name, None)


def _error_intent_status(err: stripe.StripeError) -> str | None:
    return _field(_field(err.error, "payment_intent"), "status")


def _translate(err: stripe.StripeError, operation: str) -> Exception:
    """A Stripe failure as one of our exceptions (see the table in the module docstring)."""
    exc = _classify(err, operation)
    level = logging.INFO if isinstance(exc, ServiceError) else logging.WARNING
    code = exc.code if isinstance(exc, ServiceError | GatewayUnavailable) else "?"
    name = type(err).__name__
    log.log(level, "stripe %s: %s -> %s (request %s)", operation, name, code, err.request_id)
    return exc


def _classify(err: stripe.StripeError, operation: str) -> Exception:
    if isinstance(err, stripe.IdempotencyError):
        return Conflict(
            "This idempotency key was already used with different parameters.",
            code="idempotency_key_reused",
        )
    if isinstance(err, stripe.InvalidRequestError):
        return _invalid_request(err, operation)
    if isinstance(err, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayUnavailable("Stripe refused our credentials.", code="gateway_auth_failed")
    if isinstance(err, stripe.RateLimitError):
        return GatewayUnavailable("Stripe is rate limiting us.", code="gateway_rate_limited")
    if isinstance(err, stripe.APIConnectionError):
        return _connection_error(err)
    return GatewayUnavailable(
        f"Stripe failed (HTTP {err.http_status}); the outcome is unknown.", code="gateway_error"
    )


def _invalid_request(err: stripe.InvalidRequestError, operation: str) -> Exception:
    code, message = err.code, err.user_message or "Stripe refused the request."
    if operation in _DISPUTE_OPERATIONS:
        return _dispute_refused(code, message)
    if code in ("amount_too_small", "amount_too_large"):
        return ValidationFailed(message, code=code, param="amount")
    if code == "resource_missing" and operation in ("create_payment", "save_card"):
        return ValidationFailed(message, code="invalid_payment_method", param="payment_method")
    if code == "resource_missing":
        return NotFound("No such payment at Stripe.", code="resource_missing")
    if code == "payment_method_unexpected_state":
        return ValidationFailed(message, code="invalid_payment_method", param="payment_method")
    if code == "payment_intent_unexpected_state":
        status = _error_intent_status(err) or "another state"
        return Conflict(f"The payment is {status} at Stripe.", code="invalid_state")
    if code == "charge_already_refunded":
        return Conflict("The payment is already fully refunded.", code=code)
    if code == "charge_expired_for_capture":
        return Conflict("The authorization has expired.", code="authorization_expired")
    return GatewayUnavailable(
        f"Stripe rejected the request ({code or 'invalid_request'}).",
        code="gateway_request_rejected",
    )


def _dispute_refused(code: str | None, message: str) -> Exception:
    if code == "resource_missing":
        return NotFound("No such dispute at Stripe.", code="resource_missing")
    if code == "dispute_evidence_page_limit_exceeded":
        return ValidationFailed(
            f"Stripe refused the evidence: {message} Shorten the documents.",
            code=code,
            param="files",
        )
    return Conflict(f"Stripe refused this: {message}", code="dispute_refused")


def _connection_error(err: stripe.APIConnectionError) -> GatewayUnavailable:
    cause = err.__cause__  # the SDK raises APIConnectionError from the requests exception
    if isinstance(cause, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        sent = False
    elif isinstance(cause, requests.exceptions.ConnectionError):
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        sent = not isinstance(reason, NewConnectionError)
    else:
        sent = True  # unknown: assume the worst
    if not sent:
        return GatewayUnavailable("Stripe could not be reached.", code="gateway_unreachable")
    if isinstance(cause, requests.exceptions.Timeout):
        return GatewayUnavailable(
            "Stripe did not answer in time; the outcome is unknown.", code="gateway_timeout"
        )
    return GatewayUnavailable(
        "The connection to Stripe was lost; the outcome is unknown.",
        code="gateway_connection_lost",
    )
