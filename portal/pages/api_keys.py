"""Developers, API keys: the key list, create, reveal a test key, roll with a grace period,
revoke."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import error_callout, field, secret_box
from portal.components.layout import portal_page
from portal.components.payments_table import labelled_select
from portal.state.api_keys import GRACE_LABELS, ApiKeysState

STATUS_COLORS = {"active": "green", "expiring": "amber", "expired": "gray", "revoked": "gray"}
GRACE_CHOICES = list(GRACE_LABELS)


def _status(row: rx.Var) -> rx.Component:
    return rx.badge(
        row["status_label"],
        color_scheme=rx.match(row["status"], *STATUS_COLORS.items(), "gray"),
    )


def _actions(row: rx.Var) -> rx.Component:
    return rx.cond(
        ApiKeysState.can_manage & (row["status"] == "active"),
        rx.flex(
            rx.cond(
                row["revealable"] == "yes",
                rx.button(
                    rx.icon("eye", size=14),
                    "Reveal",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ApiKeysState.reveal(row["id"]),
                    aria_label="Reveal " + row["name"].to(str),
                ),
            ),
            rx.button(
                "Roll",
                size="1",
                variant="soft",
                on_click=ApiKeysState.open_roll(row["id"]),
                aria_label="Roll " + row["name"].to(str),
            ),
            rx.button(
                "Revoke",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=ApiKeysState.open_revoke(row["id"]),
                aria_label="Revoke " + row["name"].to(str),
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            ApiKeysState.can_manage & (row["status"] == "expiring"),
            rx.button(
                "Revoke now",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=ApiKeysState.open_revoke(row["id"]),
                aria_label="Revoke " + row["name"].to(str),
            ),
        ),
    )


def key_card(row: rx.Var) -> rx.Component:
    """One key: a card that stacks on phones and reads as a row on desks."""
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.text(row["name"], weight="medium"),
                    _status(row),
                    wrap="wrap",
                    align="center",
                ),
                rx.code(row["masked"], size="2", variant="ghost"),
                rx.text(
                    "Created "
                    + row["created"].to(str)
                    + " · Last used "
                    + row["last_used"].to(str),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            _actions(row),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="pp-api-key",
    )


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Create key")),
        rx.dialog.content(
            rx.dialog.title("Create an API key"),
            rx.dialog.description(
                rx.cond(
                    ApiKeysState.livemode,
                    "A live key moves real money; you will be asked for a fresh code.",
                    "A test key works with the sandbox and test cards only.",
                ),
                size="2",
                margin_bottom="1rem",
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        "key-name",
                        name="name",
                        required=True,
                        max_length=100,
                        placeholder="e.g. Checkout server",
                    ),
                    error_callout(ApiKeysState.error),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Create", type="submit"),
                        spacing="2",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ApiKeysState.create,
            ),
            max_width="26rem",
        ),
        open=ApiKeysState.create_open,
        on_open_change=ApiKeysState.set_create_open,
    )


def roll_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Roll this key"),
            rx.alert_dialog.description(
                "A new secret replaces this key. Keep the old one working long enough to "
                "deploy the new one everywhere; after that it stops.",
                size="2",
            ),
            rx.vstack(
                rx.text("Old key keeps working for", size="2", weight="medium"),
                labelled_select(
                    GRACE_CHOICES,
                    value=ApiKeysState.roll_grace,
                    on_change=ApiKeysState.choose_grace,
                    label="Old key keeps working for",
                ),
                spacing="1",
                margin_y="1rem",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Roll key",
                    on_click=ApiKeysState.roll(ApiKeysState.roll_key_id, ApiKeysState.roll_grace),
                ),
                spacing="2",
                justify="end",
            ),
            max_width="26rem",
        ),
        open=ApiKeysState.roll_key_id != "",
        on_open_change=ApiKeysState.close_roll,
    )


def revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this key?"),
            rx.alert_dialog.description(
                "Requests with it are refused at once. This cannot be undone.", size="2"
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Revoke key", color_scheme="red", on_click=ApiKeysState.revoke)
                ),
                spacing="2",
                justify="end",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
        open=ApiKeysState.revoke_key_id != "",
        on_open_change=ApiKeysState.close_revoke,
    )


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ApiKeysState.secret_title),
            rx.dialog.description(
                rx.cond(
                    ApiKeysState.secret_revealed,
                    "A test key works with the sandbox and test cards only. Keep it in your "
                    "server's secrets; you can show it here again.",
                    rx.cond(
                        ApiKeysState.livemode,
                        "Copy it now and keep it in your server's secrets. We keep only a "
                        "fingerprint of it, so it cannot be shown again: if it is lost, roll "
                        "the key.",
                        "Copy it and keep it in your server's secrets. As a test key, it can "
                        "be shown again here with Reveal.",
                    ),
                ),
                size="2",
                margin_bottom="1rem",
            ),
            secret_box(ApiKeysState.new_secret, "Secret key"),
            rx.flex(
                rx.dialog.close(rx.button("Done")),
                justify="end",
                margin_top="1rem",
            ),
            max_width="32rem",
        ),
        open=ApiKeysState.new_secret != "",
        on_open_change=ApiKeysState.dismiss_secret,
    )


@portal_page("/developers/api-keys", "API keys", on_load=[ApiKeysState.load])
def api_keys_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("API keys", size="7", as_="h1"),
            rx.spacer(),
            rx.cond(ApiKeysState.can_manage, create_dialog()),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            rx.cond(ApiKeysState.livemode, "Live", "Test"),
            " keys authenticate your server with ",
            rx.code("Authorization: Bearer sk_…"),
            rx.cond(
                ApiKeysState.livemode,
                ". A live secret is shown once, when the key is created or rolled; we cannot "
                "show it again.",
                ". A test secret can be shown again with Reveal; a live one is shown only once.",
            ),
            size="2",
            color_scheme="gray",
        ),
        error_callout(ApiKeysState.error),
        rx.cond(
            ApiKeysState.loaded,
            rx.cond(
                ApiKeysState.rows.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(ApiKeysState.rows, key_card),
                    spacing="2",
                    width="100%",
                ),
                rx.card(
                    rx.text(
                        rx.cond(
                            ApiKeysState.livemode,
                            "No live keys yet. Create one when your integration is ready to "
                            "take real payments.",
                            "No test keys. Create one to call the API from your server.",
                        ),
                        size="2",
                    ),
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        roll_dialog(),
        revoke_dialog(),
        secret_dialog(),
        spacing="4",
        width="100%",
    )
