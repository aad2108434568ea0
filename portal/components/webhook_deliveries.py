"""A webhook endpoint's deliveries: each event's state in words, its attempts, and the detail behind
a toggle."""

from __future__ import annotations

import reflex as rx

from portal.state.webhooks import WebhookEndpointState

COLORS = {
    "enabled": "green",
    "disabled": "gray",
    "pending": "blue",
    "retrying": "amber",
    "succeeded": "green",
    "failed": "red",
    "healthy": "green",
    "failing": "red",
    "new": "gray",
}


def status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    """A state in words ("Retrying"), coloured by its code ("retrying")."""
    return rx.badge(label, color_scheme=rx.match(status, *COLORS.items(), "gray"))


def attempt_row(a: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(a["line"], size="1", weight="medium"),
        rx.cond(a["reason"] != "", rx.text(a["reason"], size="1", color_scheme="red")),
        rx.cond(
            WebhookEndpointState.technical_open,
            rx.vstack(
                rx.cond(
                    a["technical"] != "",
                    rx.code(a["technical"], size="1", variant="ghost", word_break="break_all"),
                ),
                rx.cond(
                    a["excerpt"] != "",
                    rx.code(
                        "Answer: " + a["excerpt"], size="1", variant="ghost", word_break="break_all"
                    ),
                ),
                spacing="1",
                class_name="pp-technical",
            ),
        ),
        padding_y="0.25rem",
    )


def delivery_detail() -> rx.Component:
    s = WebhookEndpointState.selected
    has_attempts = WebhookEndpointState.selected_attempts.length() > 0  # type: ignore[attr-defined]
    return rx.vstack(
        rx.flex(
            rx.text("Attempts", size="2", weight="medium"),
            rx.spacer(),
            rx.cond(
                has_attempts,
                rx.button(
                    rx.cond(
                        WebhookEndpointState.technical_open,
                        "Hide technical detail",
                        "Show technical detail",
                    ),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=WebhookEndpointState.toggle_technical,
                    aria_expanded=rx.cond(WebhookEndpointState.technical_open, "true", "false"),
                ),
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            has_attempts,
            rx.foreach(WebhookEndpointState.selected_attempts, attempt_row),
            rx.text("Not attempted yet.", size="1", color_scheme="gray"),
        ),
        rx.cond(s["next"] != "", rx.text("Next attempt: " + s["next"], size="1")),
        rx.text("Payload", size="2", weight="medium"),
        rx.box(
            rx.el.pre(
                s["payload"],
                style={
                    "white_space": "pre-wrap",
                    "word_break": "break_all",
                    "font_size": "12px",
                    "margin": "0",
                },
            ),
            background="var(--gray-2)",
            padding="0.5rem",
            border_radius="var(--radius-2)",
            width="100%",
            max_height="20rem",
            overflow_y="auto",
        ),
        spacing="2",
        width="100%",
        padding_top="0.5rem",
    )


def delivery_item(d: rx.Var) -> rx.Component:
    opened = WebhookEndpointState.selected["id"] == d["id"]
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.hstack(
                        rx.text(d["event_type"], weight="medium", size="2"),
                        status_badge(d["status"], d["status_label"]),
                        wrap="wrap",
                        align="center",
                    ),
                    rx.text(d["created"] + " · " + d["summary"], size="1", color_scheme="gray"),
                    rx.cond(
                        d["reason"] != "",
                        rx.text(
                            d["reason"],
                            size="1",
                            color_scheme=rx.cond(d["status"] == "failed", "red", "amber"),
                            class_name="pp-delivery-reason",
                        ),
                    ),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.flex(
                    rx.button(
                        rx.cond(opened, "Hide", "Details"),
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=WebhookEndpointState.open_delivery(d["id"]),
                        aria_expanded=rx.cond(opened, "true", "false"),
                    ),
                    rx.cond(
                        WebhookEndpointState.can_manage & (d["status"] != "succeeded"),
                        rx.button(
                            "Redeliver",
                            size="1",
                            variant="soft",
                            on_click=WebhookEndpointState.redeliver(d["id"]),
                        ),
                    ),
                    spacing="2",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="2",
                width="100%",
            ),
            rx.cond(opened, delivery_detail()),
            width="100%",
        ),
        width="100%",
        class_name="pp-delivery",
    )
