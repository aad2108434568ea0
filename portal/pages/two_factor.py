"""Sign-in's second step (/login/two-factor) and the demo's SMS outbox (/dev/sms)."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import auth_card, live_error, submit_button
from portal.components.second_factor import code_input, method_picker
from portal.state.two_factor import SmsOutboxState, TwoFactorState


def _hint() -> rx.Component:
    return rx.match(
        TwoFactorState.method,
        (
            "sms",
            rx.vstack(
                rx.button(
                    "Text me a code at " + TwoFactorState.phone_hint,
                    type="button",
                    variant="soft",
                    on_click=TwoFactorState.send_sms,
                ),
                rx.cond(TwoFactorState.sms_note != "", rx.text(TwoFactorState.sms_note, size="2")),
                spacing="2",
            ),
        ),
        (
            "recovery",
            rx.text(
                "Enter one of the recovery codes you saved when you set up two-factor "
                "authentication. Each works once.",
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.text(
            "Open your authenticator app and enter the 6-digit code for PayPortal.",
            size="2",
            color_scheme="gray",
        ),
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            method_picker(
                TwoFactorState.method_options,
                value=TwoFactorState.method,
                on_change=TwoFactorState.choose_method,
            ),
            _hint(),
            code_input(TwoFactorState.method, field_id="code", auto_focus=True),
            live_error(TwoFactorState.error),
            submit_button("Verify", TwoFactorState.checking),
            rx.link("Use another account", href="/login", size="2"),
            spacing="4",
            width="100%",
        ),
        on_submit=TwoFactorState.submit,
        reset_on_submit=True,
        width="100%",
    )


def _expired() -> rx.Component:
    return rx.vstack(
        rx.callout(TwoFactorState.error, icon="clock", color_scheme="amber", width="100%"),
        rx.link(rx.button("Sign in again", size="3", width="100%"), href="/login", width="100%"),
        spacing="4",
        width="100%",
    )


@rx.page(
    route="/login/two-factor", title="Two-factor sign-in · PayPortal", on_load=TwoFactorState.load
)
def two_factor_login() -> rx.Component:
    return auth_card(
        rx.heading("Confirm it's you", size="6", as_="h1"),
        rx.cond(TwoFactorState.expired, _expired(), _form()),
        max_width="26rem",
    )


@rx.page(route="/dev/sms", title="SMS outbox (sandbox) · PayPortal", on_load=SmsOutboxState.load)
def sms_outbox() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.heading("SMS outbox", size="7", as_="h1"),
            rx.text(
                "Without Twilio keys, text messages are not sent: they land here, so you can "
                "read the codes while trying PayPortal offline.",
                color_scheme="gray",
                size="2",
            ),
            rx.cond(
                ~SmsOutboxState.available,
                rx.callout("The SMS outbox is not available in production.", color_scheme="gray"),
                rx.cond(
                    SmsOutboxState.messages.length() > 0,  # type: ignore[attr-defined]
                    rx.vstack(
                        rx.foreach(
                            SmsOutboxState.messages,
                            lambda m: rx.card(
                                rx.vstack(
                                    rx.hstack(
                                        rx.text(m["to"], weight="medium", size="2"),
                                        rx.spacer(),
                                        rx.text(m["at"], size="1", color_scheme="gray"),
                                        width="100%",
                                        wrap="wrap",
                                    ),
                                    rx.text(m["body"], size="2"),
                                    spacing="1",
                                ),
                                width="100%",
                            ),
                        ),
                        width="100%",
                        spacing="2",
                    ),
                    rx.text(
                        "No messages yet. Add a phone number under Settings, Security, and the "
                        "code will appear here.",
                        size="2",
                    ),
                ),
            ),
            spacing="4",
            width="100%",
            max_width="48rem",
        ),
        padding="1rem",
        as_="main",
    )
