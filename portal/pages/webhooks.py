"""Developers, Webhooks: endpoints, and each endpoint's secret, delivery log and redelivery."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import error_callout, field, notice_callout, secret_box
from portal.components.layout import portal_page
from portal.components.payments_table import labelled_select
from portal.components.webhook_deliveries import delivery_item, status_badge
from portal.state.webhooks import OVERLAP_CHOICES, WebhookEndpointState, WebhooksState


def _health(e: rx.Var) -> rx.Component:
    """An endpoint's health: a badge, then failing since when, failures in a row, last success."""
    return rx.flex(
        status_badge(e["health"], e["health_label"]),
        rx.text(e["health_detail"], size="1", color_scheme="gray"),
        spacing="2",
        align="center",
        wrap="wrap",
        class_name="pp-endpoint-health",
    )


def _event_choice(event_type: rx.Var) -> rx.Component:
    return rx.text(
        rx.flex(
            rx.checkbox(
                checked=WebhooksState.chosen.contains(event_type),  # type: ignore[attr-defined]
                on_change=lambda on: WebhooksState.toggle_event(event_type, on),
            ),
            event_type,
            spacing="2",
        ),
        as_="label",
        size="2",
    )


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Add endpoint")),
        rx.dialog.content(
            rx.dialog.title("Add a webhook endpoint"),
            rx.dialog.description(
                "We POST signed JSON events to this URL. It must be https:// on a public "
                "address and answer 2xx within 5 seconds.",
                rx.cond(
                    WebhooksState.local_urls,
                    " On this development server, test-mode endpoints may also be "
                    "http://localhost:PORT/… (or run `python -m backend webhooks listen`).",
                    "",
                ),
                size="2",
                margin_bottom="1rem",
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Endpoint URL",
                        "endpoint-url",
                        name="url",
                        type="url",
                        required=True,
                        max_length=2048,
                        placeholder="https://example.com/webhooks/payportal",
                    ),
                    field(
                        "Description (optional)",
                        "endpoint-description",
                        name="description",
                        max_length=300,
                    ),
                    rx.text(
                        rx.flex(
                            rx.checkbox(
                                checked=WebhooksState.all_events,
                                on_change=WebhooksState.set_all_events,
                            ),
                            "All events",
                            spacing="2",
                        ),
                        as_="label",
                        size="2",
                        weight="medium",
                    ),
                    rx.cond(
                        ~WebhooksState.all_events,
                        rx.grid(
                            rx.foreach(WebhooksState.event_types, _event_choice),
                            columns=rx.breakpoints(initial="1", sm="2"),
                            spacing="2",
                            role="group",
                            aria_label="Events to send",
                        ),
                    ),
                    error_callout(WebhooksState.error),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Add endpoint", type="submit"),
                        spacing="2",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=WebhooksState.create,
            ),
            max_width="32rem",
        ),
        open=WebhooksState.create_open,
        on_open_change=WebhooksState.set_create_open,
    )


def endpoint_card(e: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(e["url"], weight="medium", word_break="break_all"),
                    status_badge(e["status"], e["status_label"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(e["description"] != "", rx.text(e["description"], size="1")),
                rx.text(e["events"], size="1", color_scheme="gray"),
                _health(e),
                spacing="1",
            ),
            width="100%",
        ),
        href="/developers/webhooks/" + e["id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
    )


@portal_page("/developers/webhooks", "Webhooks", on_load=[WebhooksState.load])
def webhooks_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Webhooks", size="7", as_="h1"),
            rx.spacer(),
            rx.cond(WebhooksState.can_manage, create_dialog()),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "Endpoints on your servers that receive events (payments, refunds, disputes) as "
            "they happen, signed with the PayPortal-Signature header.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(~WebhooksState.create_open, error_callout(WebhooksState.error)),
        rx.cond(
            WebhooksState.loaded,
            rx.cond(
                WebhooksState.endpoints.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(WebhooksState.endpoints, endpoint_card), spacing="2", width="100%"
                ),
                rx.card(
                    rx.text(
                        rx.cond(
                            WebhooksState.livemode,
                            "No live endpoints yet. ",
                            "No test endpoints yet. ",
                        ),
                        "Add one to be told about payments as they happen.",
                        size="2",
                    ),
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
    )


# ---------------------------------------------------------------------------------------------
# One endpoint


def _roll_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Roll the signing secret"),
            rx.alert_dialog.description(
                "A new secret signs every delivery. The current one keeps signing beside it "
                "for a while, so you can deploy the new one without missing an event.",
                size="2",
            ),
            rx.vstack(
                rx.text("Current secret keeps signing for", size="2", weight="medium"),
                labelled_select(
                    list(OVERLAP_CHOICES),
                    value=WebhookEndpointState.overlap,
                    on_change=WebhookEndpointState.choose_overlap,
                    label="Current secret keeps signing for",
                ),
                spacing="1",
                margin_y="1rem",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Roll secret",
                    on_click=WebhookEndpointState.roll_secret(
                        WebhookEndpointState.endpoint["id"], WebhookEndpointState.overlap
                    ),
                ),
                spacing="2",
                justify="end",
            ),
            max_width="26rem",
        ),
        open=WebhookEndpointState.roll_open,
        on_open_change=WebhookEndpointState.set_roll_open,
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this endpoint?"),
            rx.alert_dialog.description(
                "It stops receiving events at once and its delivery log is deleted.", size="2"
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Delete endpoint", color_scheme="red", on_click=WebhookEndpointState.delete
                ),
                spacing="2",
                justify="end",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
        open=WebhookEndpointState.delete_open,
        on_open_change=WebhookEndpointState.set_delete_open,
    )


def _secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Signing secret"),
            rx.dialog.description(
                "Verify each delivery's PayPortal-Signature with this secret. Copy it now: it "
                "is shown only this once.",
                size="2",
                margin_bottom="1rem",
            ),
            secret_box(WebhookEndpointState.new_secret, "Signing secret"),
            rx.flex(rx.dialog.close(rx.button("Done")), justify="end", margin_top="1rem"),
            max_width="32rem",
        ),
        open=WebhookEndpointState.new_secret != "",
        on_open_change=WebhookEndpointState.dismiss_secret,
    )


def _manage_buttons() -> rx.Component:
    e = WebhookEndpointState.endpoint
    return rx.flex(
        rx.button("Send test event", variant="soft", on_click=WebhookEndpointState.send_test),
        rx.button("Roll secret", variant="soft", on_click=WebhookEndpointState.set_roll_open(True)),
        rx.cond(
            e["status"] == "enabled",
            rx.button(
                "Disable",
                variant="soft",
                color_scheme="gray",
                on_click=WebhookEndpointState.set_enabled(False),
            ),
            rx.button(
                "Enable",
                variant="soft",
                color_scheme="green",
                on_click=WebhookEndpointState.set_enabled(True),
            ),
        ),
        rx.button(
            "Delete",
            variant="soft",
            color_scheme="red",
            on_click=WebhookEndpointState.set_delete_open(True),
        ),
        spacing="2",
        wrap="wrap",
    )


def _endpoint_view() -> rx.Component:
    e = WebhookEndpointState.endpoint
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=16), rx.text("Webhooks")),
            href="/developers/webhooks",
            size="2",
        ),
        rx.hstack(
            rx.heading("Endpoint", size="7", as_="h1"),
            status_badge(e["status"], e["status_label"]),
            align="center",
        ),
        rx.text(e["url"], weight="medium", word_break="break_all"),
        rx.text(e["events"], size="2", color_scheme="gray"),
        _health(e),
        rx.cond(
            e["disabled_reason"] != "",
            rx.callout(e["disabled_reason"], color_scheme="gray", size="1"),
        ),
        rx.cond(
            e["previous_expires"] != "",
            rx.text(
                "The previous secret also signs until " + e["previous_expires"] + ".", size="2"
            ),
        ),
        rx.cond(WebhookEndpointState.can_manage, _manage_buttons()),
        error_callout(WebhookEndpointState.error),
        notice_callout(WebhookEndpointState.notice),
        rx.heading("Delivery log", size="4", as_="h2"),
        rx.cond(
            WebhookEndpointState.deliveries.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(WebhookEndpointState.deliveries, delivery_item),
                rx.cond(
                    WebhookEndpointState.next_cursor != "",
                    rx.button("Load more", variant="soft", on_click=WebhookEndpointState.load_more),
                ),
                spacing="2",
                width="100%",
                align="center",
            ),
            rx.card(
                rx.text(
                    "No deliveries yet. Events sent to this endpoint appear here; press "
                    "“Send test event” to try it now.",
                    size="2",
                ),
                width="100%",
            ),
        ),
        _roll_dialog(),
        _delete_dialog(),
        _secret_dialog(),
        spacing="3",
        width="100%",
    )


@portal_page(
    "/developers/webhooks/[endpoint_id]",
    "Webhook endpoint",
    on_load=[WebhookEndpointState.load, WebhookEndpointState.watch_log],
)
def webhook_endpoint_page() -> rx.Component:
    return rx.cond(
        ~WebhookEndpointState.loaded,
        rx.center(rx.spinner(size="3"), padding="4rem", aria_label="Loading the endpoint"),
        rx.cond(
            WebhookEndpointState.not_found,
            rx.vstack(
                rx.heading("Endpoint not found", size="6", as_="h1"),
                rx.text(
                    "It may belong to the other mode, or have been deleted.", color_scheme="gray"
                ),
                rx.link("Back to webhooks", href="/developers/webhooks"),
            ),
            _endpoint_view(),
        ),
    )
