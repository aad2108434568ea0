"""Sign-up: e-mail, password with live strength feedback, business name."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import (
    alert,
    auth_card,
    field,
    strength_meter,
    submit_button,
)
from portal.state.signup import SignupState


def signup_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Business name",
                "name",
                auto_complete="organization",
                required=True,
                max_length=200,
                auto_focus=True,
            ),
            field(
                "E-mail",
                "email",
                type="email",
                auto_complete="email",
                required=True,
                on_change=SignupState.set_email_value,
            ),
            field(
                "Password",
                "password",
                strength_meter(SignupState.strength, SignupState.strength_message),
                type="password",
                auto_complete="new-password",
                required=True,
                min_length=10,
                max_length=128,
                on_change=SignupState.check_password.debounce(250),
                aria_describedby="password-strength",
            ),
            rx.text(
                "At least 10 characters; a few words you will remember work well.",
                size="1",
                color_scheme="gray",
            ),
            alert(SignupState.error),
            submit_button("Create account", SignupState.pending),
            spacing="4",
            width="100%",
        ),
        on_submit=SignupState.submit,
        reset_on_submit=False,
        width="100%",
        # "true" once the page's on_load has run (browser tests wait for it before typing).
        custom_attrs={"data-ready": SignupState.is_hydrated.to_string()},
    )


@rx.page(route="/signup", title="Create your account · PayPortal", on_load=SignupState.start)
def signup() -> rx.Component:
    return auth_card(
        rx.heading("Create your PayPortal account", size="6", as_="h1"),
        rx.text(
            "Start in test mode right away; confirm your e-mail address to invite your team.",
            size="2",
            color_scheme="gray",
        ),
        signup_form(),
        rx.text(
            "Already have an account? ",
            rx.link("Sign in", href="/login"),
            size="2",
        ),
    )
