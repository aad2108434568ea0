"""Forgotten password: /forgot-password asks for the address, /reset-password sets a new one."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import (
    alert,
    auth_card,
    field,
    strength_meter,
    submit_button,
)
from portal.state.password_reset import ForgotPasswordState, ResetPasswordState


@rx.page(
    route="/forgot-password",
    title="Reset your password · PayPortal",
    on_load=ForgotPasswordState.start,
)
def forgot_password() -> rx.Component:
    return auth_card(
        rx.heading("Reset your password", size="6", as_="h1"),
        rx.cond(
            ForgotPasswordState.sent_message != "",
            rx.vstack(
                alert(ForgotPasswordState.sent_message, color="green", icon="mail-check"),
                rx.link("Back to sign in", href="/login", size="2"),
                spacing="3",
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    rx.text(
                        "Enter the e-mail address of your account and we will send you a link "
                        "to choose a new password.",
                        size="2",
                        color_scheme="gray",
                    ),
                    field(
                        "E-mail",
                        "email",
                        type="email",
                        auto_complete="username",
                        required=True,
                        auto_focus=True,
                    ),
                    alert(ForgotPasswordState.error),
                    submit_button("Send the link", ForgotPasswordState.pending),
                    rx.link("Back to sign in", href="/login", size="2"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ForgotPasswordState.submit,
                reset_on_submit=False,
                width="100%",
                # Tests (and people on slow phones) wait until on_load has reset the form.
                custom_attrs={"data-ready": ForgotPasswordState.is_hydrated.to_string()},
            ),
        ),
    )


def reset_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(
                "Choose a new password for ",
                rx.text.strong(ResetPasswordState.account_email),
                ".",
                size="2",
            ),
            # Lets password managers file the new password under the right account.
            rx.el.input(
                type="email",
                name="username",
                value=ResetPasswordState.account_email,
                auto_complete="username",
                read_only=True,
                hidden=True,
            ),
            field(
                "New password",
                "password",
                strength_meter(ResetPasswordState.strength, ResetPasswordState.strength_message),
                type="password",
                auto_complete="new-password",
                required=True,
                min_length=10,
                max_length=128,
                auto_focus=True,
                on_change=ResetPasswordState.check_password.debounce(250),
            ),
            field(
                "Repeat the new password",
                "confirm",
                type="password",
                auto_complete="new-password",
                required=True,
            ),
            rx.text(
                "Saving it signs you out on every other device.", size="1", color_scheme="gray"
            ),
            alert(ResetPasswordState.error),
            submit_button("Save the new password", ResetPasswordState.pending),
            spacing="4",
            width="100%",
        ),
        on_submit=ResetPasswordState.submit,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(
    route="/reset-password",
    title="Choose a new password · PayPortal",
    on_load=ResetPasswordState.check,
)
def reset_password() -> rx.Component:
    return auth_card(
        rx.heading("Choose a new password", size="6", as_="h1"),
        rx.match(
            ResetPasswordState.status,
            ("ready", reset_form()),
            (
                "invalid",
                rx.vstack(
                    rx.text(ResetPasswordState.message, size="2", role="alert"),
                    rx.link(rx.button("Ask for a new link", size="3"), href="/forgot-password"),
                    spacing="3",
                ),
            ),
            (
                "done",
                rx.vstack(
                    alert(
                        "Your password has been changed and every session signed out.",
                        color="green",
                        icon="check",
                    ),
                    rx.link(rx.button("Sign in", size="3"), href="/login"),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), aria_label="Checking the link", width="100%"),
        ),
    )
