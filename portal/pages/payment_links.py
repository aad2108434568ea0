"""Payment links: reusable links and QR codes for counters and invoices."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_page
from portal.components.list_page import card_grid
from portal.state.payment_links import PaymentLinksState as S


def field(label: str, name: str, **props: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"pl-{name}", class_name="pp-label"),
        rx.input(id=f"pl-{name}", name=name, **{"width": "100%", **props}),
        spacing="1",
        width="100%",
    )


def quantity_field() -> rx.Component:
    return field(
        "Most a customer may buy at once",
        "max_quantity",
        type="number",
        min=1,
        max=99,
        default_value=S.form_values["max_quantity"],
    )


def fixed_fields() -> rx.Component:
    return rx.hstack(
        field(
            "Price (e.g. 12.50)",
            "unit_amount",
            default_value=S.form_values["unit_amount"],
            input_mode="decimal",
        ),
        quantity_field(),
        width="100%",
        flex_direction=["column", "row"],
    )


def custom_fields() -> rx.Component:
    return rx.hstack(
        field(
            "Minimum",
            "min_amount",
            default_value=S.form_values["min_amount"],
            input_mode="decimal",
            placeholder="1.00",
        ),
        field(
            "Maximum",
            "max_amount",
            default_value=S.form_values["max_amount"],
            input_mode="decimal",
            placeholder="no limit",
        ),
        width="100%",
        flex_direction=["column", "row"],
    )


def price_choice() -> rx.Component:
    """One of the merchant's active recurring prices, in words; none yet: how to make one."""
    return rx.cond(
        S.price_choices.length() > 0,  # type: ignore[attr-defined]
        rx.vstack(
            rx.el.label("Recurring price", html_for="pl-price", class_name="pp-label"),
            rx.select.root(
                rx.select.trigger(id="pl-price", aria_label="Recurring price", width="100%"),
                rx.select.content(
                    rx.foreach(
                        S.price_choices,
                        lambda c: rx.select.item(c["label"], value=c["id"]),
                    )
                ),
                value=S.chosen_price,
                on_change=S.choose_price,
            ),
            rx.text(
                "Customers pay the first period now and are charged again each period "
                "until they cancel; their card is saved for the renewals.",
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
            width="100%",
        ),
        rx.callout(
            rx.text(
                "You have no active recurring price yet. Create a product with a recurring "
                "price in ",
                rx.link("Billing → Products", href="/billing"),
                ", then come back to make its subscription link.",
            ),
            icon="info",
            color_scheme="blue",
            width="100%",
        ),
    )


def subscription_fields() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.kept_price != "",
            rx.vstack(
                rx.text("Recurring price", class_name="pp-label"),
                rx.text(S.kept_price, size="2", weight="medium"),
                rx.text(
                    "A subscription link keeps its price. To sell another price, create a "
                    "new link.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                width="100%",
            ),
            price_choice(),
        ),
        rx.box(quantity_field(), width=["100%", "50%"]),
        spacing="3",
        width="100%",
    )


def link_form() -> rx.Component:
    v = S.form_values
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(
                    rx.cond(S.editing_id != "", "Edit payment link", "New payment link"),
                    size="4",
                    as_="h2",
                ),
                field(
                    "Name customers see",
                    "name",
                    default_value=v["name"],
                    required=True,
                    max_length=120,
                ),
                field(
                    "Description (optional)",
                    "description",
                    default_value=v["description"],
                    max_length=500,
                ),
                rx.cond(
                    S.pricing != "subscription",
                    field(
                        "Currency",
                        "currency",
                        default_value=v["currency"],
                        max_length=3,
                        width="8rem",
                    ),
                ),
                rx.el.fieldset(
                    rx.el.legend("Price", class_name="pp-label"),
                    rx.radio_group.root(
                        rx.hstack(
                            rx.el.label(
                                rx.radio_group.item(value="fixed"),
                                " Fixed price",
                                class_name="pp-radio",
                            ),
                            rx.el.label(
                                rx.radio_group.item(value="custom"),
                                " Customer chooses the amount",
                                class_name="pp-radio",
                            ),
                            rx.el.label(
                                rx.radio_group.item(value="subscription"),
                                " Subscription",
                                class_name="pp-radio",
                            ),
                            wrap="wrap",
                            spacing="4",
                        ),
                        value=S.pricing,
                        on_change=S.choose_pricing,
                        name="pricing",
                        # A subscription link keeps its kind and price; other links do not
                        # become one (create a new link for that).
                        disabled=S.kept_price != "",
                    ),
                    style={"border": "0", "padding": "0", "margin": "0"},
                ),
                rx.cond(
                    S.pricing == "subscription",
                    subscription_fields(),
                    rx.cond(S.pricing == "fixed", fixed_fields(), custom_fields()),
                ),
                rx.hstack(
                    rx.button("Save link", type="submit"),
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


def link_row(link: rx.Var) -> rx.Component:
    active = link["active"] != ""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(link["name"], weight="bold", size="3", truncate=True),
                rx.cond(
                    active,
                    rx.badge("Active", color_scheme="green"),
                    rx.badge("Inactive", color_scheme="gray"),
                ),
                justify="between",
                width="100%",
            ),
            rx.text(link["price"], size="2"),
            rx.link(
                link["url"],
                href=link["url"],
                is_external=True,
                size="2",
                style={"overflowWrap": "anywhere"},
            ),
            rx.flex(
                rx.cond(
                    S.can_manage,
                    rx.fragment(
                        rx.button(
                            "Edit", size="2", variant="soft", on_click=S.edit_link(link["id"])
                        ),
                        rx.cond(
                            active,
                            rx.button(
                                "Deactivate",
                                size="2",
                                variant="soft",
                                color_scheme="red",
                                on_click=S.set_active(link["id"], False),
                            ),
                            rx.button(
                                "Activate",
                                size="2",
                                variant="soft",
                                color_scheme="green",
                                on_click=S.set_active(link["id"], True),
                            ),
                        ),
                    ),
                ),
                rx.button(
                    rx.icon("qr-code", size=16),
                    "QR (SVG)",
                    size="2",
                    variant="outline",
                    on_click=S.download_qr(link["id"], "svg"),
                ),
                rx.button(
                    rx.icon("download", size=16),
                    "QR (PNG)",
                    size="2",
                    variant="outline",
                    on_click=S.download_qr(link["id"], "png"),
                ),
                wrap="wrap",
                style={"gap": "0.5rem"},
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/payment-links", "Payment links", on_load=[S.load])
def payment_links_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Payment links", size="7", as_="h1"),
            rx.cond(
                S.can_manage & ~S.form_open,
                rx.button(rx.icon("plus", size=16), "New link", on_click=S.new_link),
            ),
            justify="between",
            width="100%",
            align="center",
        ),
        rx.text(
            "Share a link, or print its QR code for a counter or an invoice: each visit opens "
            "a fresh checkout.",
            color_scheme="gray",
            size="2",
        ),
        rx.box(
            rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", icon="triangle-alert")),
            role="alert",
            aria_live="assertive",
            width="100%",
        ),
        rx.box(
            rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", icon="check")),
            role="status",
            aria_live="polite",
            width="100%",
        ),
        rx.cond(S.form_open, link_form()),
        card_grid(
            S.links,
            link_row,
            show_empty=S.loaded & (S.links.length() == 0) & ~S.form_open,  # type: ignore[attr-defined]
            empty_title="No payment links yet.",
            empty_hint=rx.cond(
                S.can_manage,
                "Create one with “New link”: a fixed price, an amount the customer chooses, "
                "or a subscription.",
                "Ask an owner or admin to create one.",
            ),
        ),
        spacing="4",
        width="100%",
    )
