"""The centred card and labelled fields of the signed-out pages (sign-in and its second step,
sign-up, reset, invitations)."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import logo


def auth_card(*children: rx.Component, max_width: str = "28rem") -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(logo(), *children, spacing="4", width="100%"),
            size="4",
            width="100%",
            max_width=max_width,
        ),
        min_height="100vh",
        padding="1rem",
        background="var(--gray-2)",
        as_="main",
    )


def field(
    label: str, field_id: str, hint: str | rx.Component = "", **props: object
) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="pp-label"),
        rx.input(id=field_id, name=field_id, size="3", width="100%", **props),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray"))
        if isinstance(hint, str)
        else hint,
        spacing="1",
        width="100%",
    )


def alert(message: rx.Var | str, color: str = "red", icon: str = "triangle-alert") -> rx.Component:
    """A message that screen readers announce when it appears (an inserted role=alert/status
    region is read out), and that takes no room while there is none."""
    box = rx.box(
        rx.callout(message, icon=icon, color_scheme=color, size="1", width="100%"),
        role="alert" if color == "red" else "status",
        width="100%",
    )
    return box if isinstance(message, str) else rx.cond(message != "", box)


def live_error(message: rx.Var) -> rx.Component:
    """A sign-in error in an assertive live region that is always mounted, so a retry's new
    message is announced too."""
    return rx.box(
        rx.cond(
            message != "",
            rx.callout(message, icon="triangle-alert", color_scheme="red", size="1", width="100%"),
        ),
        role="alert",
        aria_live="assertive",
        width="100%",
    )


def strength_meter(score: rx.Var, message: rx.Var) -> rx.Component:
    """The live password feedback: a 4-step bar and what to do about it."""
    color = rx.match(score, (0, "red"), (1, "amber"), (2, "grass"), "green")
    return rx.cond(
        message != "",
        rx.vstack(
            rx.progress(
                value=rx.cond(score == 0, 8, score * 25),
                max=100,
                color_scheme=color,
                size="1",
                aria_label="Password strength",
            ),
            rx.text(message, size="1", color_scheme=color, id="password-strength"),
            spacing="1",
            width="100%",
            aria_live="polite",
        ),
    )


def submit_button(label: rx.Var | str, pending: rx.Var) -> rx.Component:
    """The form's submit button, disabled until the page's state has hydrated (its on_load has
    run). Before that, a click or Enter would be a native GET submit that puts the typed password
    in the address bar, or an event that races the on_load."""
    return rx.button(
        label,
        type="submit",
        size="3",
        width="100%",
        loading=pending,
        disabled=~rx.State.is_hydrated,
    )
