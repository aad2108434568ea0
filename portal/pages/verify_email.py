"""/verify-email?token=...: the link from the verification e-mail."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import auth_card
from portal.state.verify_email import VerifyEmailState


@rx.page(
    route="/verify-email", title="Confirm your e-mail · PayPortal", on_load=VerifyEmailState.verify
)
def verify_email() -> rx.Component:
    signed_in = VerifyEmailState.user_email != ""
    return auth_card(
        rx.match(
            VerifyEmailState.outcome,
            (
                "verified",
                rx.vstack(
                    rx.heading("E-mail address confirmed", size="6", as_="h1"),
                    rx.text(VerifyEmailState.outcome_message, size="2"),
                    rx.cond(
                        signed_in,
                        rx.link(rx.button("Go to your dashboard", size="3"), href="/dashboard"),
                        rx.link(rx.button("Sign in", size="3"), href="/login"),
                    ),
                    spacing="3",
                ),
            ),
            (
                "invalid",
                rx.vstack(
                    rx.heading("This link does not work", size="6", as_="h1"),
                    rx.text(VerifyEmailState.outcome_message, size="2", role="alert"),
                    rx.text(
                        rx.cond(
                            signed_in,
                            "Send yourself a new link from the banner on your dashboard.",
                            "Sign in, then send yourself a new link from the banner at the top.",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.link(
                        rx.button("Continue", size="3"),
                        href=rx.cond(signed_in, "/dashboard", "/login"),
                    ),
                    spacing="3",
                ),
            ),
            rx.center(rx.spinner(size="3"), aria_label="Checking the link", width="100%"),
        ),
    )
