"""Sign-in: a plain form that password managers understand."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import auth_card, live_error, submit_button
from portal.state.auth import AuthState


def login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.vstack(
                rx.el.label("E-mail", html_for="email", class_name="pp-label"),
                rx.input(
                    id="email",
                    name="email",
                    type="email",
                    auto_complete="username",
                    required=True,
                    size="3",
                    width="100%",
                    auto_focus=True,
                ),
                spacing="1",
                width="100%",
            ),
            rx.vstack(
                rx.hstack(
                    rx.el.label("Password", html_for="password", class_name="pp-label"),
                    rx.spacer(),
                    rx.link("Forgot your password?", href="/forgot-password", size="2"),
                    width="100%",
                    align="center",
                ),
                rx.input(
                    id="password",
                    name="password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                    size="3",
                    width="100%",
                ),
                spacing="1",
                width="100%",
            ),
            live_error(AuthState.login_error),
            submit_button("Sign in", AuthState.login_pending),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.submit_login,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route="/login", title="Sign in · PayPortal", on_load=AuthState.redirect_if_signed_in)
def login() -> rx.Component:
    return auth_card(
        rx.heading("Sign in to your account", size="6", as_="h1"),
        rx.text(
            "Manage payments, refunds and payouts for your business.",
            size="2",
            color_scheme="gray",
        ),
        login_form(),
        rx.text("New to PayPortal? ", rx.link("Create an account", href="/signup"), size="2"),
        max_width="26rem",
    )


@rx.page(route="/", title="PayPortal", on_load=AuthState.route_root)
def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh", aria_label="Loading")
