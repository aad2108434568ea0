"""Request and response bodies of the merchant REST API (the seed specification's field names)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from backend.api.errors import ErrorDetail
from backend.core.url_text import MAX_REDIRECT_URL_LENGTH


class _Strict(BaseModel):
    # Unknown fields are refused, so a typo (amount_cents) is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class OrderCreate(_Strict):
    amountCents: StrictInt = Field(description="Amount in the currency's minor unit")
    currency: StrictStr = Field(description="ISO 4217 code, e.g. USD", examples=["USD"])
    reference: StrictStr | None = Field(None, max_length=200)
    customerEmail: StrictStr | None = Field(None, max_length=320)
    metadata: dict[str, StrictStr] | None = None


class PaymentMethodIn(_Strict):
    type: Literal["card", "bank", "paypal"] = "card"
    token: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="Required for card and bank; none for paypal (the buyer approves on "
        "PayPal's page: see returnUrl). Card, sandbox: a test card number or a token such "
        "as pm_card_visa "
        "(pm_apple_pay_visa, pm_google_pay_visa: the test card in a wallet); Stripe: a "
        "PaymentMethod id (an Apple Pay or Google Pay one is a card). Bank (US dollars, charge "
        "only): Plaid's Stripe bank account token (btok_...); sandbox: a test account number "
        "such as 000123456789",
        examples=["pm_card_visa"],
    )


class MandateIn(_Strict):
    """The customer's online authorisation of a bank debit, required with type "bank"."""

    text: StrictStr = Field(
        min_length=1, max_length=2000, description="The authorisation text the customer accepted"
    )
    ipAddress: StrictStr = Field(min_length=2, max_length=64, description="The customer's IP")
    userAgent: StrictStr = Field(
        min_length=1, max_length=500, description="The customer's browser (User-Agent)"
    )


class PaymentCreate(_Strict):
    orderId: StrictStr | None = Field(None, max_length=64)
    amountCents: StrictInt | None = Field(None, description="Without orderId: the amount")
    currency: StrictStr | None = Field(None, description="Without orderId: the currency")
    paymentMethod: PaymentMethodIn
    mandate: MandateIn | None = None
    gatewayType: Literal["sandbox", "stripe", "paypal"] | None = None
    customerEmail: StrictStr | None = Field(None, max_length=320)
    description: StrictStr | None = Field(None, max_length=500)
    billingCountry: StrictStr | None = Field(None, min_length=2, max_length=2)
    metadata: dict[str, StrictStr] | None = None
    returnUrl: StrictStr | None = Field(
        None,
        max_length=MAX_REDIRECT_URL_LENGTH,
        description="PayPal only, required: where the buyer comes back after approving on "
        "PayPal's page (absolute http(s) URL); then confirm the payment",
        examples=["https://shop.example/paypal/return"],
    )
    cancelUrl: StrictStr | None = Field(
        None,
        max_length=MAX_REDIRECT_URL_LENGTH,
        description="PayPal only, required: where the buyer comes back after cancelling there",
        examples=["https://shop.example/paypal/cancel"],
    )


class ConfirmBody(_Strict):
    approved: Literal[False] | None = Field(
        None,
        description="false: the buyer came back on cancelUrl (cancelled at PayPal); the "
        "payment fails with payment_canceled. Omitted: the processor's state decides",
    )


class CaptureBody(_Strict):
    amountCents: StrictInt | None = Field(None, description="Defaults to the whole authorization")


class RefundBody(_Strict):
    amountCents: StrictInt | None = Field(None, description="Defaults to what remains")
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None


class MandateOut(BaseModel):
    text: str
    acceptedAt: str | None
    ipAddress: str
    userAgent: str
    gatewayMandateId: str | None


class BankAccountOut(BaseModel):
    """A bank payment's account (never its number), the mandate and the bank's return."""

    bankName: str
    last4: str
    accountType: str | None
    mandate: MandateOut
    returnCode: str | None = Field(description="The ACH return code (R01...), once returned")
    returnedAt: str | None
    returnFeeCents: int | None


class WalletOut(BaseModel):
    type: str = Field(description="The wallet that tokenised the card: apple_pay, google_pay")


class PaymentMethodOut(BaseModel):
    type: str
    brand: str | None
    last4: str | None
    expMonth: int | None
    expYear: int | None
    country: str | None
    bankAccount: BankAccountOut | None = None
    wallet: WalletOut | None = Field(
        None, description="As Stripe's card.wallet: set when a wallet paid with the card"
    )


class RiskOut(BaseModel):
    score: int | None
    decision: str | None
    reasons: list[str]
    review: Literal["open", "approved", "fraudulent"] | None = Field(
        description="A payment flagged for review is open until it is approved or marked "
        "fraudulent (POST /api/payments/{paymentId}/review)"
    )
    reviewedAt: str | None


class ReviewBody(_Strict):
    outcome: Literal["approved", "fraudulent"]


class FailureOut(BaseModel):
    code: str
    message: str | None


class RedirectToUrlOut(BaseModel):
    url: str = Field(
        description="Send the customer's browser here: PayPal's approval page; in test mode "
        "without PayPal, or for the sandbox's 3-D Secure, our page that plays that step"
    )
    returnUrl: str | None = Field(description="Where the customer comes back (returnUrl)")


class UseStripeSdkOut(BaseModel):
    clientSecret: str = Field(description="For stripe.handleNextAction in the browser")


class NextActionOut(BaseModel):
    type: Literal["redirect_to_url", "use_stripe_sdk"]
    redirectToUrl: RedirectToUrlOut | None
    useStripeSdk: UseStripeSdkOut | None


class PaymentOut(BaseModel):
    id: str
    object: Literal["payment"]
    livemode: bool
    orderId: str | None
    status: str
    captureMethod: str
    currency: str
    totalAmount: int
    amountCaptured: int
    amountRefunded: int
    platformFee: int
    gatewayFee: int
    netAmount: int
    gatewayType: str
    gatewayPaymentId: str | None
    paymentMethod: PaymentMethodOut
    customerEmail: str | None
    description: str | None
    risk: RiskOut
    failure: FailureOut | None
    metadata: dict[str, str]
    createdAt: str
    authorizedAt: str | None
    capturedAt: str | None
    canceledAt: str | None
    nextAction: NextActionOut | None = Field(
        None,
        description="What a payment in requires_action waits for (PayPal's approval, 3-D "
        "Secure); null when nothing is awaited",
    )


class OrderOut(BaseModel):
    id: str
    object: Literal["order"]
    livemode: bool
    amountCents: int
    currency: str
    reference: str | None
    customerEmail: str | None
    status: str
    metadata: dict[str, str]
    createdAt: str


class RefundOut(BaseModel):
    id: str
    object: Literal["refund"]
    paymentId: str
    amountCents: int
    currency: str
    status: str
    reason: str | None
    platformFeeRefunded: int
    gatewayFeeRefunded: int
    failureReason: str | None
    createdAt: str


class PaymentEnvelope(BaseModel):
    success: Literal[True] = True
    payment: PaymentOut


class RefundEnvelope(BaseModel):
    success: Literal[True] = True
    payment: PaymentOut
    refund: RefundOut


class OrderEnvelope(BaseModel):
    success: Literal[True] = True
    order: OrderOut


class PaymentList(BaseModel):
    success: Literal[True] = True
    payments: list[PaymentOut]


class DeclinedBody(BaseModel):
    success: Literal[False] = False
    error: ErrorDetail
    payment: PaymentOut
