"""Settings, Security: two-factor authentication, recovery codes and the SMS phone."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import error_callout, field, notice_callout
from portal.components.layout import portal_page
from portal.state.security import SecurityState


def _enrolment() -> rx.Component:
    return rx.vstack(
        rx.text(
            "1. Scan this QR code with an authenticator app (1Password, Google Authenticator, "
            "Authy...), or type the key into it.",
            size="2",
        ),
        rx.image(
            src=SecurityState.qr,
            alt="QR code for your authenticator app",
            width="200px",
            height="200px",
            background="white",
        ),
        rx.vstack(
            rx.text("Key", size="1", color_scheme="gray"),
            rx.code(SecurityState.secret, size="3", word_break="break_all", id="totp-key"),
            spacing="1",
        ),
        rx.form(
            rx.vstack(
                rx.text("2. Enter the 6-digit code the app shows.", size="2"),
                field(
                    "Code from the app",
                    "enrol-code",
                    name="code",
                    auto_complete="one-time-code",
                    input_mode="numeric",
                    required=True,
                    max_length=8,
                ),
                rx.flex(
                    rx.button("Turn on", type="submit"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=SecurityState.cancel_enrolment,
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=SecurityState.confirm_enrolment,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _recovery_codes() -> rx.Component:
    return rx.callout.root(
        rx.callout.text(
            rx.vstack(
                rx.text(
                    "Your recovery codes. Save them somewhere safe now: they are shown only "
                    "this once, and each one signs you in once if you lose your phone.",
                    weight="medium",
                ),
                rx.grid(
                    rx.foreach(
                        SecurityState.new_codes,
                        lambda c: rx.code(c, size="3", class_name="pp-recovery-code"),
                    ),
                    columns="2",
                    spacing="2",
                    id="recovery-codes",
                ),
                rx.flex(
                    rx.button(
                        rx.icon("copy", size=16),
                        "Copy all",
                        variant="soft",
                        on_click=[
                            rx.set_clipboard(SecurityState.new_codes.join("\n")),  # type: ignore[attr-defined]
                            rx.toast.success("Copied"),
                        ],
                    ),
                    rx.button("I have saved them", on_click=SecurityState.hide_codes),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="3",
            )
        ),
        color_scheme="amber",
        width="100%",
    )


def two_factor_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Two-factor authentication", size="4", as_="h2"),
                rx.cond(
                    SecurityState.two_factor_on,
                    rx.badge("On", color_scheme="green"),
                    rx.badge("Off", color_scheme="gray"),
                ),
                align="center",
                wrap="wrap",
            ),
            rx.text(
                "A code from your phone, on top of your password, when you sign in and before "
                "sensitive actions (large refunds, API keys, webhook secrets, bank details).",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(SecurityState.new_codes.length() > 0, _recovery_codes()),  # type: ignore[attr-defined]
            rx.cond(
                SecurityState.two_factor_on,
                rx.vstack(
                    rx.text(
                        "Recovery codes left: ",
                        rx.text.strong(SecurityState.codes_left),
                        size="2",
                    ),
                    rx.flex(
                        rx.button(
                            "Make new recovery codes",
                            variant="soft",
                            on_click=SecurityState.regenerate_codes,
                        ),
                        rx.button(
                            "Turn off",
                            variant="soft",
                            color_scheme="red",
                            on_click=SecurityState.disable,
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                    spacing="3",
                ),
                rx.cond(
                    SecurityState.enrolling,
                    _enrolment(),
                    rx.button(
                        "Set up an authenticator app", on_click=SecurityState.start_enrolment
                    ),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _phone_form() -> rx.Component:
    return rx.cond(
        SecurityState.phone_code_sent,
        rx.form(
            rx.vstack(
                rx.text(SecurityState.phone_note, size="2"),
                field(
                    "Code from the text message",
                    "phone-code",
                    name="code",
                    auto_complete="one-time-code",
                    input_mode="numeric",
                    required=True,
                    max_length=10,
                ),
                rx.flex(
                    rx.button("Verify phone", type="submit"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=SecurityState.cancel_phone,
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=SecurityState.confirm_phone,
            reset_on_submit=True,
            width="100%",
        ),
        rx.form(
            rx.vstack(
                field(
                    "Mobile number, with country code",
                    "phone",
                    name="phone",
                    type="tel",
                    auto_complete="tel",
                    placeholder="+1 415 555 0123",
                    required=True,
                    max_length=40,
                ),
                rx.button("Text me a code", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=SecurityState.send_phone_code,
            width="100%",
        ),
    )


def phone_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Text messages", size="4", as_="h2"),
            rx.text(
                "A verified phone can receive codes when your authenticator app is not at hand.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                SecurityState.phone != "",
                rx.flex(
                    rx.text("Verified phone: ", rx.text.strong(SecurityState.phone), size="2"),
                    rx.button(
                        "Remove",
                        variant="soft",
                        color_scheme="gray",
                        size="1",
                        on_click=SecurityState.remove_phone,
                    ),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                _phone_form(),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/settings/security", "Security", on_load=[SecurityState.load])
def security() -> rx.Component:
    return rx.vstack(
        rx.heading("Security", size="7", as_="h1"),
        error_callout(SecurityState.error),
        notice_callout(SecurityState.notice),
        rx.cond(
            SecurityState.loaded,
            rx.vstack(two_factor_card(), phone_card(), spacing="4", width="100%"),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
        max_width="48rem",
    )
