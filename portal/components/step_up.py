"""The step-up dialog, mounted once in the portal frame (see portal/state/step_up.py)."""

from __future__ import annotations

import reflex as rx

from portal.components.second_factor import code_input, method_picker
from portal.state.step_up import StepUpState


def _setup_first() -> rx.Component:
    return rx.vstack(
        rx.text(
            "This action asks for a fresh code from a second factor, and your account has none "
            "yet. Turn on two-factor authentication first; it takes a minute.",
            size="2",
        ),
        rx.flex(
            rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
            rx.link(rx.button("Set up two-factor authentication"), href="/settings/security"),
            spacing="2",
            justify="end",
            wrap="wrap",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def _ask_code() -> rx.Component:
    return rx.form(
        rx.vstack(
            method_picker(
                StepUpState.method_options,
                value=StepUpState.method,
                on_change=StepUpState.choose_method,
            ),
            rx.cond(
                StepUpState.method == "sms",
                rx.vstack(
                    rx.button(
                        "Text me a code",
                        type="button",
                        variant="soft",
                        on_click=StepUpState.send_sms,
                    ),
                    rx.cond(StepUpState.sms_note != "", rx.text(StepUpState.sms_note, size="2")),
                    spacing="2",
                ),
            ),
            code_input(StepUpState.method, field_id="step-up-code"),
            rx.box(
                rx.cond(
                    StepUpState.error != "",
                    rx.callout(
                        StepUpState.error, color_scheme="red", size="1", icon="triangle-alert"
                    ),
                ),
                role="alert",
                width="100%",
            ),
            rx.flex(
                rx.dialog.close(
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button("Confirm", type="submit", loading=StepUpState.checking),
                spacing="2",
                justify="end",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=StepUpState.submit,
        reset_on_submit=True,
        width="100%",
    )


def step_up_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Confirm it's you"),
            rx.dialog.description(
                rx.cond(
                    StepUpState.needs_setup,
                    StepUpState.action + ": two-factor authentication needed.",
                    StepUpState.action + ": enter a fresh code to continue.",
                ),
                size="2",
                margin_bottom="1rem",
            ),
            rx.cond(StepUpState.needs_setup, _setup_first(), _ask_code()),
            max_width="26rem",
        ),
        open=StepUpState.open,
        on_open_change=StepUpState.set_open,
    )
