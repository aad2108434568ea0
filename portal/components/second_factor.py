"""The second-factor pieces the sign-in's second step and the step-up dialog share: the
choice of factor and the code field."""

from __future__ import annotations

import reflex as rx


def method_picker(options: rx.Var, *, value: rx.Var, on_change: object) -> rx.Component:
    """Radio choices of the factors a member has, as (value, label) pairs."""
    return rx.radio_group.root(
        rx.flex(
            rx.foreach(
                options,
                lambda option: rx.text(
                    rx.flex(rx.radio_group.item(value=option[0]), option[1], spacing="2"),
                    as_="label",
                    size="2",
                ),
            ),
            direction="column",
            spacing="2",
        ),
        value=value,
        on_change=on_change,
        aria_label="How to confirm",
    )


def code_input(
    method: rx.Var, *, label: str = "Code", field_id: str, auto_focus: bool = False
) -> rx.Component:
    """The one-time code field; recovery codes are letters, the others digits."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="pp-label"),
        rx.input(
            id=field_id,
            name="code",
            auto_complete="one-time-code",
            input_mode=rx.cond(method == "recovery", "text", "numeric"),
            required=True,
            size="3",
            width="100%",
            max_length=32,
            **({"auto_focus": True} if auto_focus else {}),
        ),
        spacing="1",
        width="100%",
    )
