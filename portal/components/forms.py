"""Small form pieces shared by the settings and developers pages."""

from __future__ import annotations

import reflex as rx


def field(label: str, field_id: str, **props: object) -> rx.Component:
    """A labelled input (the label is a real <label for=...>)."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="pp-label"),
        rx.input(id=field_id, size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def error_callout(message: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            message != "",
            rx.callout(message, icon="triangle-alert", color_scheme="red", size="1"),
        ),
        role="alert",
        aria_live="assertive",
        width="100%",
    )


def notice_callout(message: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            message != "",
            rx.callout(message, icon="circle-check", color_scheme="green", size="1"),
        ),
        role="status",
        width="100%",
    )


def secret_box(secret: rx.Var, label: str) -> rx.Component:
    """A secret shown once, in monospace, wrapping on phones, with a copy button."""
    return rx.vstack(
        rx.code(secret, size="3", word_break="break-all", aria_label=label, variant="soft"),
        rx.button(
            rx.icon("copy", size=16),
            "Copy",
            variant="soft",
            on_click=[rx.set_clipboard(secret), rx.toast.success("Copied")],
        ),
        spacing="2",
        width="100%",
    )
