"""The sandbox's wallet tokens: a test card tokenised by Apple Pay or Google Pay."""

from __future__ import annotations

import pytest

from backend.core.errors import ValidationFailed
from backend.gateways.base import Outcome, PaymentRequest
from backend.gateways.sandbox import SandboxGateway, wallet_of, wallet_token


def request(token: str) -> PaymentRequest:
    return PaymentRequest(
        amount=1_000,
        currency="USD",
        payment_method_type="card",
        payment_method_token=token,
        capture=True,
        idempotency_key="k-1",
    )


def test_a_wallet_token_is_its_card_with_the_wallet() -> None:
    gateway = SandboxGateway()
    plain, apple = gateway.card_details("pm_card_visa"), gateway.card_details("pm_apple_pay_visa")
    assert plain is not None and apple is not None
    assert (apple.brand, apple.last4, apple.wallet) == ("visa", "4242", "apple_pay")
    assert apple.fingerprint == plain.fingerprint and plain.wallet is None
    paid = gateway.create_payment(request("pm_google_pay_visa"))
    assert paid.outcome is Outcome.SUCCEEDED and paid.card is not None
    assert paid.card.wallet == "google_pay"
    declined = gateway.create_payment(request("pm_apple_pay_chargeDeclined"))
    assert declined.outcome is Outcome.DECLINED and declined.decline_code == "card_declined"
    assert declined.card is not None and declined.card.wallet == "apple_pay"


@pytest.mark.parametrize(
    "token", ["pm_apple_pay_nosuchcard", "pm_samsung_pay_visa", "pm_apple_pay_", "apple_pay"]
)
def test_anything_else_is_not_a_test_card(token: str) -> None:
    assert wallet_of(token) is None and SandboxGateway().card_details(token) is None
    with pytest.raises(ValidationFailed) as refused:
        SandboxGateway().create_payment(request(token))
    assert refused.value.code == "not_a_test_card"


def test_wallet_tokens_are_made_for_known_wallets_and_cards_only() -> None:
    assert wallet_token("apple_pay") == "pm_apple_pay_visa"
    assert wallet_token("google_pay", "mastercard") == "pm_google_pay_mastercard"
    for wallet, card in [("samsung_pay", "visa"), ("apple_pay", "nosuchcard"), ("", "visa")]:
        with pytest.raises(ValueError):
            wallet_token(wallet, card)
