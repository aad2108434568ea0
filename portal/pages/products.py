"""Products: the catalogue a merchant sells from, each product with its prices in words
("$15.00 every 3 months"); a new product with its first price, another price, archive."""

from __future__ import annotations

import reflex as rx

from backend.services.billing.catalogue_page import BILLING_CHOICES
from portal.components.billing_tabs import billing_tabs
from portal.components.forms import error_callout, field, notice_callout
from portal.components.layout import portal_page
from portal.components.list_page import card_grid
from portal.state.products import ProductsState as S


def price_fields(prefix: str) -> rx.Component:
    """Amount, currency, how often it bills and every how many (hidden for one-time)."""
    return rx.vstack(
        rx.flex(
            rx.box(
                field(
                    "Price (e.g. 12.50)",
                    f"{prefix}-amount",
                    name="amount",
                    required=True,
                    input_mode="decimal",
                ),
                flex="2",
                min_width="10rem",
            ),
            rx.box(
                field(
                    "Currency",
                    f"{prefix}-currency",
                    name="currency",
                    max_length=3,
                    default_value=S.default_currency,
                ),
                flex="1",
                min_width="6rem",
            ),
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        rx.flex(
            rx.vstack(
                rx.el.label("Billing", html_for=f"{prefix}-billing", class_name="pp-label"),
                rx.select.root(
                    rx.select.trigger(id=f"{prefix}-billing", aria_label="Billing", width="100%"),
                    rx.select.content(
                        *(rx.select.item(words, value=value) for value, words in BILLING_CHOICES)
                    ),
                    value=S.billing,
                    on_change=S.set_billing,
                    size="3",
                ),
                spacing="1",
                flex="1",
                min_width="10rem",
            ),
            rx.cond(
                S.billing != "one_time",
                rx.box(
                    field(
                        "Every how many",
                        f"{prefix}-count",
                        name="interval_count",
                        type="number",
                        min=1,
                        max=365,
                        default_value="1",
                    ),
                    flex="1",
                    min_width="8rem",
                ),
            ),
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        field(
            "Nickname (optional, e.g. Launch offer)",
            f"{prefix}-nickname",
            name="nickname",
            max_length=250,
        ),
        spacing="3",
        width="100%",
    )


def form_buttons(label: str) -> rx.Component:
    return rx.hstack(
        rx.button(label, type="submit"),
        rx.button(
            "Cancel", type="button", variant="soft", color_scheme="gray", on_click=S.close_form
        ),
    )


def new_product_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New product", size="4", as_="h2"),
                field(
                    "Name customers see", "product-name", name="name", required=True, max_length=250
                ),
                field(
                    "Description (optional)",
                    "product-description",
                    name="description",
                    max_length=1000,
                ),
                rx.heading("First price", size="3", as_="h3"),
                price_fields("product"),
                form_buttons("Create product"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save,
            reset_on_submit=False,
        ),
        width="100%",
    )


def new_price_form(product: rx.Var) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("New price of " + product["name"].to(str), size="3", as_="h3"),
            price_fields("price"),
            rx.text(
                "A price never changes once created: archive it and add another.",
                size="1",
                color_scheme="gray",
            ),
            form_buttons("Add price"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save,
        reset_on_submit=False,
        width="100%",
    )


def price_line(price: rx.Var) -> rx.Component:
    active = price["active"] != ""
    return rx.hstack(
        rx.vstack(
            rx.text(price["label"], size="2", weight="medium"),
            rx.cond(
                price["nickname"] != "", rx.text(price["nickname"], size="1", color_scheme="gray")
            ),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.cond(~active, rx.badge("Archived", color_scheme="gray")),
        rx.cond(
            S.can_manage,
            rx.cond(
                active,
                rx.button(
                    "Archive",
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.set_price_active(price["id"], False),
                    aria_label="Archive the price " + price["label"].to(str),
                ),
                rx.button(
                    "Restore",
                    size="1",
                    variant="ghost",
                    on_click=S.set_price_active(price["id"], True),
                    aria_label="Restore the price " + price["label"].to(str),
                ),
            ),
        ),
        align="center",
        width="100%",
        # A ghost button's negative margin put "Archive"/"Restore" flush against the card's
        # edge: keep a gap on the right.
        padding_right="var(--space-2)",
        opacity=rx.cond(active, "1", "0.7"),
    )


def product_card(product: rx.Var) -> rx.Component:
    active = product["active"] != ""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(product["name"], size="4", as_="h2", truncate=True),
                rx.cond(
                    active,
                    rx.badge("Active", color_scheme="green"),
                    rx.badge("Archived", color_scheme="gray"),
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.cond(
                product["description"] != "",
                rx.text(product["description"], size="2", color_scheme="gray"),
            ),
            rx.el.ul(
                rx.foreach(
                    S.prices,
                    lambda price: rx.cond(
                        price["product_id"] == product["id"],
                        rx.el.li(price_line(price), style={"listStyle": "none"}),
                    ),
                ),
                aria_label="Prices of " + product["name"].to(str),
                style={
                    "margin": "0",
                    "padding": "0",
                    "width": "100%",
                    "display": "flex",
                    "flexDirection": "column",
                    "gap": "0.375rem",
                },
            ),
            rx.cond(
                product["prices"] == "0", rx.text("No prices yet.", size="2", color_scheme="gray")
            ),
            rx.cond(S.form == product["id"], new_price_form(product)),
            rx.cond(
                S.can_manage & (S.form != product["id"]),
                rx.flex(
                    rx.cond(
                        active,
                        rx.button(
                            rx.icon("plus", size=16),
                            "Add price",
                            size="2",
                            variant="soft",
                            on_click=S.open_form(product["id"]),
                        ),
                    ),
                    rx.cond(
                        active,
                        rx.button(
                            "Archive product",
                            size="2",
                            variant="soft",
                            color_scheme="red",
                            on_click=S.set_product_active(product["id"], False),
                        ),
                        rx.button(
                            "Restore product",
                            size="2",
                            variant="soft",
                            color_scheme="green",
                            on_click=S.set_product_active(product["id"], True),
                        ),
                    ),
                    wrap="wrap",
                    style={"gap": "0.5rem"},
                ),
            ),
            rx.text("Created " + product["created"].to(str), size="1", color_scheme="gray"),
            spacing="2",
            width="100%",
        ),
        width="100%",
        min_width="0",
    )


@portal_page("/billing", "Products", on_load=[S.load])
def products_page() -> rx.Component:
    return rx.vstack(
        billing_tabs(),
        rx.hstack(
            rx.heading("Products", size="7", as_="h1"),
            rx.cond(
                S.can_manage & (S.form != "new"),
                rx.button(rx.icon("plus", size=16), "New product", on_click=S.open_form("new")),
            ),
            justify="between",
            width="100%",
            align="center",
        ),
        rx.text(
            "What you sell, and its prices: once, or every day, week, month or year. "
            "Subscriptions bill from these prices.",
            color_scheme="gray",
            size="2",
        ),
        error_callout(S.error),
        notice_callout(S.notice),
        rx.cond(S.form == "new", new_product_form()),
        card_grid(
            S.products,
            product_card,
            show_empty=S.loaded & (S.products.length() == 0) & (S.form != "new"),  # type: ignore[attr-defined]
            empty_title="No products yet.",
            empty_hint=rx.cond(
                S.can_manage,
                "Create one with “New product”, with its first price.",
                "Ask an owner or admin to create one.",
            ),
        ),
        rx.cond(S.more, rx.text("Showing the newest 100 products.", size="2", color_scheme="gray")),
        spacing="4",
        width="100%",
    )
