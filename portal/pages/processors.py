"""Processors: which gateways take this mode's payments, in what order, for which payments and
at what price."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import error_callout, notice_callout
from portal.components.layout import portal_page
from portal.pages.settings import field
from portal.state.processors import ProcessorsState as S


def text_input(html_id: str, name: str, **props: object) -> rx.Component:
    return rx.input(id=html_id, name=name, default_value=S.form_values[name], width="100%", **props)


def gateway_choice() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Processor", class_name="pp-label"),
        rx.radio_group.root(
            rx.hstack(
                rx.foreach(
                    S.gateway_options,
                    lambda option: rx.el.label(
                        rx.radio_group.item(value=option[0]), " ", option[1], class_name="pp-radio"
                    ),
                ),
                wrap="wrap",
                spacing="4",
            ),
            value=S.form_gateway,
            on_change=S.choose_gateway,
            name="gateway",
        ),
        style={"border": "0", "padding": "0", "margin": "0"},
    )


def secret_field(label: str, html_id: str, name: str, placeholder: object, hint: object):  # type: ignore[no-untyped-def]
    """A secret typed once: never echoed back by the server, never autofilled."""
    return rx.vstack(
        field(
            label,
            html_id,
            rx.input(
                id=html_id,
                name=name,
                type="password",
                auto_complete="off",
                spell_check=False,
                placeholder=placeholder,
                width="100%",
            ),
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def key_field() -> rx.Component:
    return rx.vstack(
        secret_field(
            "Your Stripe secret key (optional)",
            "processor-key",
            "secret_key",
            rx.cond(S.livemode, "sk_live_… or rk_live_…", "sk_test_… or rk_test_…"),
            rx.cond(
                S.has_key,
                "Leave empty to keep the current key.",
                "Leave empty to use the platform's Stripe account. Kept encrypted; shown only "
                "as its last four characters.",
            ),
        ),
        secret_field(
            "Webhook signing secret (with your own key)",
            "processor-webhook-secret",
            "webhook_secret",
            "whsec_…",
            "So that refunds and disputes made in your Stripe account reach us: in Stripe, add "
            "the endpoint this page shows after saving, then paste its signing secret here. "
            "Leave empty to keep the current one.",
        ),
        spacing="3",
        width="100%",
    )


def paypal_fields() -> rx.Component:
    return rx.vstack(
        field(
            "Your PayPal app's client ID",
            "processor-client-id",
            text_input("processor-client-id", "client_id", auto_complete="off"),
        ),
        rx.text(
            rx.cond(
                S.has_key,
                "Leave empty to keep the current one.",
                rx.cond(
                    S.livemode,
                    "From a live app in PayPal's Developer Dashboard (Apps & Credentials).",
                    "From a sandbox app in PayPal's Developer Dashboard (Apps & Credentials).",
                ),
            ),
            size="1",
            color_scheme="gray",
        ),
        secret_field(
            "Its secret",
            "processor-key",
            "secret_key",
            "",
            rx.cond(
                S.has_key,
                "Leave empty to keep the current secret.",
                "Kept encrypted; never shown again.",
            ),
        ),
        field(
            "Webhook ID",
            "processor-webhook-id",
            text_input("processor-webhook-id", "webhook_id", auto_complete="off"),
            "So that PayPal's events reach us: in your app add a webhook to the address this "
            "page shows after saving, then paste the ID PayPal gives it. Leave empty to keep "
            "the current one.",
        ),
        spacing="3",
        width="100%",
    )


def processor_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(
                    rx.cond(S.editing_id != "", "Edit processor", "Add a processor"),
                    size="4",
                    as_="h2",
                ),
                rx.cond(S.editing_id == "", gateway_choice()),
                rx.cond(S.form_gateway == "stripe", key_field()),
                rx.cond(S.form_gateway == "paypal", paypal_fields()),
                field(
                    "Only these currencies",
                    "processor-currencies",
                    text_input("processor-currencies", "currencies", placeholder="EUR, GBP"),
                    "Leave empty for every currency.",
                ),
                rx.grid(
                    field(
                        "Smallest amount",
                        "processor-min",
                        text_input("processor-min", "min_amount", input_mode="decimal"),
                    ),
                    field(
                        "Largest amount",
                        "processor-max",
                        text_input("processor-max", "max_amount", input_mode="decimal"),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    "An amount range is in the one currency listed above; leave both empty for "
                    "any amount.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.heading("Processor's price", size="3", as_="h3"),
                rx.grid(
                    field(
                        "Percentage",
                        "processor-percent",
                        text_input(
                            "processor-percent",
                            "fee_percent",
                            input_mode="decimal",
                            placeholder="2.9",
                        ),
                    ),
                    field(
                        "Fixed fee",
                        "processor-fixed",
                        text_input(
                            "processor-fixed", "fee_fixed", input_mode="decimal", placeholder="0.30"
                        ),
                    ),
                    field(
                        "In",
                        "processor-fixed-currency",
                        text_input("processor-fixed-currency", "fee_fixed_currency", max_length=3),
                    ),
                    field(
                        "Dispute fee",
                        "processor-dispute-fee",
                        text_input(
                            "processor-dispute-fee",
                            "dispute_fee",
                            input_mode="decimal",
                            placeholder="15.00",
                        ),
                    ),
                    columns=rx.breakpoints(initial="2", sm="4"),
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    "What the processor charges you, shown as the processor's fee on each "
                    "payment, and for each dispute (taken from your balance with the disputed "
                    "amount, returned if you win). Leave empty for its standard price "
                    "(2.9% + $0.30; 15.00 per dispute).",
                    size="1",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.button("Save processor", type="submit"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.close_form,
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save,
            reset_on_submit=False,
            key=S.editing_id,
        ),
        width="100%",
    )


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="7rem"),
        rx.text(value, size="2"),
        align="start",
        width="100%",
    )


def webhook_facts(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.cond(
                row["webhook_ok"] != "",
                rx.icon("circle-check", size=16, color="var(--green-10)", flex_shrink="0"),
                rx.icon("triangle-alert", size=16, color="var(--amber-10)", flex_shrink="0"),
            ),
            rx.text(row["webhooks"], size="2"),
            align="start",
            spacing="2",
        ),
        rx.text("Stripe endpoint", size="1", color_scheme="gray"),
        rx.code(row["webhook_url"], size="1", style={"overflowWrap": "anywhere"}),
        rx.text(
            "Events: payment_intent.*, charge.succeeded, charge.failed, charge.refunded, "
            "refund.created, refund.updated, charge.dispute.created, charge.dispute.closed.",
            size="1",
            color_scheme="gray",
        ),
        spacing="1",
        width="100%",
    )


def move_button(row: rx.Var, direction: str, offset: int) -> rx.Component:
    return rx.icon_button(
        rx.icon(f"arrow-{direction}", size=16),
        variant="soft",
        color_scheme="gray",
        disabled=row["first" if offset < 0 else "last"] != "",
        on_click=S.move(row["id"], offset),
        aria_label="Move " + row["name"].to(str) + f" {direction}",
    )


def action_button(label: str, color: str, on_click: rx.EventSpec) -> rx.Component:
    return rx.button(label, size="2", variant="soft", color_scheme=color, on_click=on_click)


def processor_card(row: rx.Var) -> rx.Component:
    on = row["enabled"] != ""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.hstack(
                    rx.badge(row["position"], variant="outline", radius="full"),
                    rx.heading(row["name"], size="4", as_="h2"),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    on,
                    rx.badge("On", color_scheme="green"),
                    rx.badge("Off", color_scheme="gray"),
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.text(row["account"], size="2", style={"overflowWrap": "anywhere"}),
            fact("Currencies", row["currencies"]),
            fact("Amounts", row["amounts"]),
            fact("Price", row["price"]),
            fact("Routing", row["routing"]),
            rx.hstack(
                rx.text("Health", size="2", color_scheme="gray", min_width="7rem"),
                rx.vstack(
                    rx.badge(row["health_badge"], color_scheme=row["health_color"].to(str)),
                    rx.text(row["health"], size="2", style={"overflowWrap": "anywhere"}),
                    spacing="1",
                ),
                align="start",
                width="100%",
            ),
            rx.cond(row["webhook_url"] != "", webhook_facts(row)),
            rx.cond(
                S.can_manage,
                rx.flex(
                    move_button(row, "up", -1),
                    move_button(row, "down", 1),
                    rx.button(
                        "Edit", size="2", variant="soft", on_click=S.edit_processor(row["id"])
                    ),
                    rx.cond(
                        row["pinned"] != "",
                        action_button("Unpin", "gray", S.set_pinned(row["id"], False)),
                        action_button("Pin to my order", "gray", S.set_pinned(row["id"], True)),
                    ),
                    rx.cond(
                        on,
                        action_button("Turn off", "amber", S.set_enabled(row["id"], False)),
                        action_button("Turn on", "green", S.set_enabled(row["id"], True)),
                    ),
                    rx.cond(
                        row["in_use"] == "",
                        action_button("Delete", "red", S.delete(row["id"])),
                    ),
                    wrap="wrap",
                    style={"gap": "0.5rem"},
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def wallet_status(name: str, words: rx.Var, on: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(name, size="2", color_scheme="gray", min_width="7rem"),
        rx.badge(words, color_scheme=rx.cond(on != "", "green", "gray")),
        align="center",
        width="100%",
    )


def wallets_card() -> rx.Component:
    """Apple Pay and Google Pay on the live checkout: the domain registered with Stripe."""
    w = S.wallets
    return rx.card(
        rx.vstack(
            rx.heading("Apple Pay and Google Pay", size="4", as_="h2"),
            rx.text(w["summary"], size="2"),
            rx.cond(
                w["stripe"] != "",
                rx.vstack(
                    fact("Domain", w["domain"]),
                    wallet_status("Apple Pay", w["apple_pay"], w["apple_pay_on"]),
                    wallet_status("Google Pay", w["google_pay"], w["google_pay_on"]),
                    fact("Apple's file", w["association"]),
                    rx.cond(
                        S.can_manage,
                        rx.flex(
                            rx.cond(
                                w["registered"] != "",
                                action_button(
                                    "Check again", "gray", S.register_wallet_domain(True)
                                ),
                                action_button(
                                    "Register domain", "green", S.register_wallet_domain(False)
                                ),
                            ),
                            wrap="wrap",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/settings/processors", "Processors", on_load=[S.load])
def processors() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Processors", size="7", as_="h1"),
            rx.cond(
                S.can_manage & ~S.form_open,
                rx.button(rx.icon("plus", size=16), "Add processor", on_click=S.new_processor),
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        rx.text(
            rx.cond(S.livemode, "Live mode: ", "Test mode: "),
            "each payment goes first to the pinned processors whose rules it matches, from the "
            "top, then to the others cheapest first for its amount and currency (a tie goes to "
            "the one higher up). One that cannot be reached hands the payment to the next. ",
            S.health_rule,
            " One that may have taken the payment is never replaced; a declined card is never "
            "tried elsewhere. Each payment's page says why it went where it did.",
            size="2",
            color_scheme="gray",
        ),
        error_callout(S.error),
        notice_callout(S.notice),
        rx.cond(S.form_open, processor_form()),
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.cond(
                    S.rows.length() > 0,  # type: ignore[attr-defined]
                    rx.grid(
                        rx.foreach(S.rows, processor_card),
                        columns=rx.breakpoints(initial="1", md="2"),
                        width="100%",
                        style={"gap": "0.75rem"},
                    ),
                    rx.card(
                        rx.vstack(
                            rx.text("No processors set up for this mode.", weight="bold"),
                            rx.text(
                                "Add Stripe with your own secret key to take payments into "
                                "your Stripe account, send some currencies or amounts to "
                                "another processor, or set the price your processor charges "
                                "you so that each payment shows the right net amount.",
                                size="2",
                            ),
                            spacing="2",
                        ),
                        width="100%",
                    ),
                ),
                rx.callout(S.fallback, icon="info", color_scheme="gray", width="100%"),
                wallets_card(),
                spacing="3",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
