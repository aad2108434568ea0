"""Stripe's Payment Element as a Reflex component (live mode, when Stripe keys are set).

`StripeCheckout` is a small local React component (stripe_checkout.jsx, beside this file) built
on @stripe/react-stripe-js: <Elements> with the session's amount and currency, the
<PaymentElement>, and a Pay button that turns the customer's card into a PaymentMethod in the
browser. Our server only ever sees the PaymentMethod id (see backend/services/checkout_stripe.py).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from checkout.state import CheckoutState as S

REACT_STRIPE = "@stripe/react-stripe-js@7.0.1"
STRIPE_JS = "@stripe/stripe-js@10.2.1"


def _payment_method_args(payment_method_id: rx.Var[str], email: rx.Var[str]) -> list[Any]:
    return [payment_method_id, email]


def _error_args(message: rx.Var[str]) -> list[Any]:
    return [message]


class StripeCheckout(rx.Component):
    library = "$/public" + rx.asset("stripe_checkout.jsx", shared=True)
    tag = "StripeCheckout"
    lib_dependencies: list[str] = [REACT_STRIPE, STRIPE_JS]

    publishable_key: rx.Var[str]
    amount: rx.Var[int]
    currency: rx.Var[str]
    locale: rx.Var[str]
    brand_color: rx.Var[str]
    email: rx.Var[str]
    pay_label: rx.Var[str]
    busy_label: rx.Var[str]
    busy: rx.Var[bool]
    client_secret: rx.Var[str]
    wallets: rx.Var[bool]

    on_payment_method: rx.EventHandler[_payment_method_args]
    on_action_done: rx.EventHandler[rx.event.no_args_event_spec]
    on_error: rx.EventHandler[_error_args]


def stripe_checkout() -> rx.Component:
    return StripeCheckout.create(
        publishable_key=S.stripe_publishable_key,
        amount=S.amount_minor,
        currency=S.currency,
        locale=S.language,
        brand_color=S.brand_color,
        email=S.preset_email,
        pay_label=S.m["pay_button"],
        busy_label=S.m["processing"],
        busy=S.processing,
        client_secret=S.stripe_client_secret,
        wallets=S.wallets_offered,
        on_payment_method=S.pay_with_stripe,
        on_action_done=S.finish_stripe_action,
        on_error=S.show_stripe_error,
    )
