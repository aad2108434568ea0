"""Settings: business profile, notifications, refund limits, price; branding has its page."""

from __future__ import annotations

import reflex as rx

from backend.services.merchant.notifications import KINDS
from portal.components.layout import portal_page
from portal.state.settings import COUNTRIES, LOCALES, TIMEZONES, SettingsState

MINUS = "\u2212 "  # a real minus sign


def field(label: str, html_id: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=html_id, class_name="pp-label"),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        spacing="1",
        width="100%",
    )


def native_select(html_id: str, name: str, options: list[tuple[str, str]], value: rx.Var):
    return rx.el.select(
        *(rx.el.option(label, value=code) for code, label in options),
        id=html_id,
        name=name,
        default_value=value,
        class_name="pp-native-select",
        disabled=~SettingsState.can_manage,
    )


def status_line(message: rx.Var, error: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            error != "", rx.callout(error, color_scheme="red", icon="triangle-alert", size="1")
        ),
        rx.cond(message != "", rx.text(message, size="2", color="var(--green-11)")),
        role="status",
        aria_live="polite",
    )


def card(title: str, *children: rx.Component, description: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, size="2", color_scheme="gray") if description else rx.fragment(),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def profile_card() -> rx.Component:
    p = SettingsState.profile
    return card(
        "Business profile",
        rx.form(
            rx.vstack(
                field(
                    "Business name",
                    "business-name",
                    rx.input(
                        id="business-name",
                        name="name",
                        default_value=p["name"],
                        required=True,
                        max_length=200,
                        read_only=~SettingsState.can_manage,
                        width="100%",
                    ),
                ),
                field(
                    "Support e-mail",
                    "support-email",
                    rx.input(
                        id="support-email",
                        name="support_email",
                        type="email",
                        default_value=p["support_email"],
                        required=True,
                        read_only=~SettingsState.can_manage,
                        width="100%",
                    ),
                    "Shown to customers on receipts and the checkout.",
                ),
                rx.grid(
                    field(
                        "Country",
                        "country",
                        native_select("country", "country", COUNTRIES, p["country"]),
                    ),
                    field(
                        "Default currency",
                        "default-currency",
                        rx.el.select(
                            rx.foreach(
                                SettingsState.currency_options,
                                lambda c: rx.el.option(c, value=c),
                            ),
                            id="default-currency",
                            name="default_currency",
                            default_value=p["default_currency"],
                            class_name="pp-native-select",
                            disabled=~SettingsState.can_manage,
                        ),
                    ),
                    field(
                        "Time zone",
                        "timezone",
                        native_select(
                            "timezone",
                            "timezone",
                            [(t, t.replace("_", " ")) for t in TIMEZONES],
                            p["timezone"],
                        ),
                        "Dates, the dashboard's days and statements follow it.",
                    ),
                    field(
                        "Language and region",
                        "locale",
                        native_select("locale", "locale", LOCALES, p["locale"]),
                        "How amounts and dates are written, e.g. 1,234.56 or 1.234,56.",
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                status_line(SettingsState.profile_message, SettingsState.profile_error),
                rx.cond(
                    SettingsState.can_manage,
                    rx.button("Save profile", type="submit"),
                    rx.text(
                        "Your role can read these settings but not change them.",
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.save_profile,
            reset_on_submit=False,
            width="100%",
        ),
    )


def notification_switch(kind: str, label: str) -> rx.Component:
    html_id = f"notify-{kind}"
    return rx.hstack(
        rx.switch(
            id=html_id,
            checked=SettingsState.choices[kind],
            on_change=lambda value: SettingsState.toggle_notification(kind, value),
        ),
        rx.el.label(label, html_for=html_id, class_name="pp-label"),
        align="center",
        spacing="3",
    )


def notifications_card() -> rx.Component:
    return card(
        "E-mail notifications",
        *(notification_switch(kind, label) for kind, label in KINDS.items()),
        rx.box(
            rx.cond(
                SettingsState.notify_message != "",
                rx.text(SettingsState.notify_message, size="2", color="var(--green-11)"),
            ),
            role="status",
            aria_live="polite",
        ),
        description="Your own choices: each member of the team picks what to receive.",
    )


def limits_card() -> rx.Component:
    return card(
        "Refund limits",
        rx.form(
            rx.vstack(
                field(
                    "Support team's refund limit (" + SettingsState.limit_currency + ")",
                    "support-limit",
                    rx.input(
                        id="support-limit",
                        name="support_limit",
                        default_value=SettingsState.support_limit,
                        input_mode="decimal",
                        required=True,
                        read_only=~SettingsState.can_manage,
                    ),
                    "The most a support member may refund at once; larger refunds need an owner "
                    "or admin.",
                ),
                field(
                    "Ask for a fresh 2FA code above (" + SettingsState.limit_currency + ")",
                    "step-up-threshold",
                    rx.input(
                        id="step-up-threshold",
                        name="step_up_threshold",
                        default_value=SettingsState.step_up_threshold,
                        input_mode="decimal",
                        required=True,
                        read_only=~SettingsState.can_manage,
                    ),
                    "Refunds above this amount, or in another currency, ask for a code from "
                    "the authenticator first.",
                ),
                status_line(SettingsState.limits_message, SettingsState.limits_error),
                rx.cond(SettingsState.can_manage, rx.button("Save limits", type="submit")),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.save_limits,
            reset_on_submit=False,
            width="100%",
        ),
    )


def dunning_card() -> rx.Component:
    return card(
        "Subscriptions",
        rx.form(
            rx.vstack(
                field(
                    "Retry a failed renewal after (days)",
                    "retry-days",
                    rx.input(
                        id="retry-days",
                        name="retry_days",
                        default_value=SettingsState.retry_days,
                        read_only=~SettingsState.can_manage,
                    ),
                    "Days after the first failure, separated by commas. Each failure e-mails "
                    "the customer a link to pay with another card.",
                ),
                field(
                    "When the last retry fails",
                    "dunning-end",
                    native_select(
                        "dunning-end",
                        "dunning_end",
                        [
                            ("cancel", "Cancel the subscription"),
                            ("unpaid", "Keep it, marked unpaid, until the invoice is paid"),
                        ],
                        SettingsState.dunning_end,
                    ),
                ),
                rx.el.label(
                    rx.el.input(
                        type="checkbox",
                        name="portal_allows_cancel",
                        id="portal-allows-cancel",
                        default_checked=SettingsState.portal_allows_cancel,
                        disabled=~SettingsState.can_manage,
                    ),
                    " Customers may cancel in their billing portal (at the period's end)",
                    html_for="portal-allows-cancel",
                    class_name="pp-label",
                ),
                status_line(SettingsState.dunning_message, SettingsState.dunning_error),
                rx.cond(SettingsState.can_manage, rx.button("Save", type="submit")),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.save_dunning,
            reset_on_submit=False,
            width="100%",
        ),
        description="What happens when a subscriber's card fails.",
    )


def example_line(label: str, value: rx.Var, strong: bool = False) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(value, size="2", weight="bold" if strong else "medium"),
        width="100%",
    )


def price_card() -> rx.Component:
    t, ex = SettingsState.tier, SettingsState.example
    return card(
        "Your price",
        rx.hstack(
            rx.badge(t["name"], size="2"),
            rx.text(t["rate"] + " per payment", size="2", weight="medium"),
            align="center",
            wrap="wrap",
        ),
        rx.text(t["description"], size="2", color_scheme="gray"),
        rx.heading("Worked example", size="3", as_="h3"),
        example_line("A payment of", ex["total"]),
        example_line("Platform fee", MINUS + ex["platform"]),
        example_line("Card processor's fee", MINUS + ex["gateway"]),
        rx.separator(width="100%"),
        example_line("You receive", ex["net"], strong=True),
        rx.form(
            rx.hstack(
                rx.el.label(
                    "Try an amount",
                    html_for="example-amount",
                    class_name="pp-label",
                    white_space="nowrap",
                ),
                rx.input(
                    id="example-amount",
                    name="amount",
                    default_value=SettingsState.example_amount,
                    input_mode="decimal",
                    width="8rem",
                ),
                rx.button("Calculate", type="submit", variant="soft"),
                align="center",
                wrap="wrap",
            ),
            on_submit=SettingsState.try_example,
            reset_on_submit=False,
        ),
        rx.cond(
            SettingsState.example_error != "",
            rx.text(SettingsState.example_error, size="2", color="var(--red-11)", role="alert"),
        ),
        rx.text(
            "Refunds hand the platform fee back in proportion; the processor keeps its fee.",
            size="1",
            color_scheme="gray",
        ),
    )


def branding_card() -> rx.Component:
    return card(
        "Checkout branding",
        rx.link(
            rx.button(rx.icon("palette", size=16), "Edit logo and brand colour", variant="soft"),
            href="/settings/branding",
        ),
        description="Your logo and colour on the hosted checkout and payment links.",
    )


@portal_page("/settings", "Settings", on_load=[SettingsState.load])
def settings() -> rx.Component:
    return rx.vstack(
        rx.heading("Settings", size="7", as_="h1"),
        rx.cond(
            SettingsState.loaded,
            rx.grid(
                profile_card(),
                rx.vstack(price_card(), notifications_card(), spacing="3", width="100%"),
                limits_card(),
                rx.vstack(branding_card(), dunning_card(), spacing="3", width="100%"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
