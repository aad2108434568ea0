"""/accept-invite?token=...: join a team from an invitation e-mail."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import alert, auth_card, field, submit_button
from portal.state.accept_invite import AcceptInviteState

S = AcceptInviteState


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.input(
                type="email",
                name="username",
                value=S.invite["email"],
                auto_complete="username",
                read_only=True,
                hidden=True,
            ),
            rx.cond(
                S.account_exists,
                field(
                    "Your password",
                    "password",
                    "You already have a PayPortal account: sign in with it to join.",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                    auto_focus=True,
                ),
                rx.vstack(
                    field(
                        "Your name", "name", auto_complete="name", max_length=200, auto_focus=True
                    ),
                    field(
                        "Choose a password",
                        "password",
                        "At least 10 characters.",
                        type="password",
                        auto_complete="new-password",
                        required=True,
                        min_length=10,
                        max_length=128,
                    ),
                    field(
                        "Repeat the password",
                        "confirm",
                        type="password",
                        auto_complete="new-password",
                        required=True,
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
            alert(S.error),
            submit_button(
                rx.cond(S.account_exists, "Sign in and join", "Create account and join"),
                S.pending,
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=S.accept,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route="/accept-invite", title="Join a team · PayPortal", on_load=S.check)
def accept_invite() -> rx.Component:
    return auth_card(
        rx.match(
            S.status,
            (
                "ready",
                rx.vstack(
                    rx.heading("Join " + S.invite["merchant"].to(str), size="6", as_="h1"),
                    rx.text(
                        S.invite["by"].to(str) + " invited " + S.invite["email"].to(str) + " as ",
                        rx.text.strong(S.invite["role"]),
                        ".",
                        size="2",
                        word_break="break-word",
                    ),
                    _form(),
                    spacing="4",
                    width="100%",
                ),
            ),
            (
                "invalid",
                rx.vstack(
                    rx.heading("This invitation does not work", size="6", as_="h1"),
                    rx.text(S.invalid_message, size="2", role="alert"),
                    rx.text(
                        "Ask the person who invited you to send a new invitation.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.link("Go to sign in", href="/login"),
                    spacing="3",
                ),
            ),
            rx.center(rx.spinner(size="3"), aria_label="Checking the invitation", width="100%"),
        ),
    )
