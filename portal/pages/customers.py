"""Customers: who pays, how often and how much; a new customer; one customer's payments and
cards, edited or deleted, its saved cards made default or removed."""

from __future__ import annotations

import reflex as rx

from portal.components.billing import confirm_dialog, plain_list, section, tone_badge
from portal.components.detail_page import detail_page, fact
from portal.components.forms import error_callout, notice_callout
from portal.components.layout import portal_page
from portal.components.list_page import list_error, list_table, paged_results, search_form
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN, payments_table
from portal.state.customers import CustomerDetailState, CustomersState


def _field(label: str, name: str, values: rx.Var | None, **props: object) -> rx.Component:
    field_id = f"customer-{name}"
    if values is not None:
        props["default_value"] = values[name]
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="pp-label"),
        rx.input(id=field_id, name=name, width="100%", **props),
        spacing="1",
        width="100%",
    )


def customer_form(
    title: str,
    *,
    on_submit: object,
    error: rx.Var,
    open_: rx.Var,
    on_open_change: object,
    submit: str,
    values: rx.Var | None = None,
) -> rx.Component:
    """The customer's details in a dialog: new (no values) or edited (the current ones)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.form(
                rx.vstack(
                    _field("E-mail", "email", values, type="email", required=True, max_length=320),
                    _field("Name (optional)", "name", values, max_length=200),
                    _field("Phone (optional)", "phone", values, max_length=32),
                    rx.text("Address (optional)", size="2", weight="medium"),
                    _field("Street and number", "line1", values, max_length=200),
                    _field("Apartment, suite, floor", "line2", values, max_length=200),
                    rx.grid(
                        _field("City", "city", values, max_length=100),
                        _field("Postal code", "postal_code", values, max_length=20),
                        _field("State or region", "state", values, max_length=100),
                        _field("Country (two letters, e.g. US)", "country", values, max_length=2),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        spacing="3",
                        width="100%",
                    ),
                    error_callout(error),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button(submit, type="submit"),
                        spacing="2",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            max_width="32rem",
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def _row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(c["name"], href="/customers/" + c["id"].to(str), weight="medium"),
            rx.text(c["email"], size="1", color_scheme="gray", overflow_wrap="anywhere"),
            min_width="0",
        ),
        rx.table.cell(c["payments"], display=SMALL_HIDDEN),
        rx.table.cell(c["value"]),
        rx.table.cell(rx.text(c["last"], size="2"), display=PHONE_HIDDEN),
    )


@portal_page("/customers", "Customers", on_load=[CustomersState.load])
def customers_list() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Customers", size="7", as_="h1"),
            rx.button(rx.icon("plus", size=16), "New customer", on_click=CustomersState.open_form),
            justify="between",
            align="center",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        customer_form(
            "New customer",
            on_submit=CustomersState.create,
            error=CustomersState.form_error,
            open_=CustomersState.form_open,
            on_open_change=CustomersState.set_form_open,
            submit="Create customer",
        ),
        search_form(
            CustomersState, placeholder="Search e-mail or name", aria_label="Search customers"
        ),
        list_error(CustomersState),
        paged_results(
            CustomersState,
            list_table(
                [
                    rx.table.column_header_cell("Customer"),
                    rx.table.column_header_cell("Payments", display=SMALL_HIDDEN),
                    rx.table.column_header_cell("Lifetime value"),
                    rx.table.column_header_cell("Last payment", display=PHONE_HIDDEN),
                ],
                CustomersState.rows,
                _row,
            ),
            rx.text(
                rx.cond(
                    CustomersState.query != "",
                    "No customer matches. Search by the start of an e-mail or a name.",
                    "No customers yet. Add one with New customer, or let a payment create it: "
                    "a payment that carries an e-mail (customerEmail in the API, or the "
                    "checkout form) adds its customer.",
                ),
                color_scheme="gray",
                size="2",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _saved_card(m: rx.Var) -> rx.Component:
    S = CustomerDetailState
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.text(m["card"], size="2", weight="medium"),
                rx.cond(m["default"] != "", rx.badge("Default", color_scheme="green")),
                align="center",
                wrap="wrap",
            ),
            rx.text("Expires " + m["expiry"] + " · " + m["saved"], size="1", color_scheme="gray"),
            rx.cond(m["note"] != "", rx.text(m["note"], size="1", color_scheme="amber")),
            spacing="1",
            min_width="0",
        ),
        rx.cond(
            S.can_manage,
            rx.hstack(
                rx.cond(
                    m["default"] == "",
                    rx.button(
                        "Make default",
                        size="1",
                        variant="soft",
                        on_click=S.make_default(m["id"]),
                    ),
                ),
                rx.button(
                    "Remove",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.ask_remove(m["id"]),
                ),
                spacing="2",
            ),
        ),
        direction="column",
        align="start",
        spacing="2",
        width="100%",
    )


def _subscription(s: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.link(
                    s["plan"],
                    href="/billing/subscriptions/" + s["id"].to(str),
                    weight="medium",
                    size="2",
                ),
                rx.text(s["amount"] + " · " + s["renewal"], size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            tone_badge(s["tone"], s["status_label"]),
            justify="between",
            align="center",
            spacing="2",
            width="100%",
        ),
        style={"listStyle": "none"},
    )


@portal_page("/customers/[customer_id]", "Customer", on_load=[CustomerDetailState.load])
def customer_detail() -> rx.Component:
    S = CustomerDetailState
    c = S.customer
    return detail_page(
        S,
        rx.flex(
            rx.vstack(
                rx.heading(c["name"], size="7", as_="h1", overflow_wrap="anywhere"),
                rx.text(c["id"], size="1", color_scheme="gray", font_family="monospace"),
                spacing="1",
                min_width="0",
            ),
            rx.cond(
                S.can_manage,
                rx.hstack(
                    rx.button("Edit", variant="soft", on_click=S.open_edit),
                    rx.button(
                        "Delete",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.set_delete_open(True),
                    ),
                    spacing="2",
                ),
            ),
            justify="between",
            align="start",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        error_callout(S.error),
        notice_callout(S.notice),
        customer_form(
            "Edit customer",
            on_submit=S.save,
            error=S.edit_error,
            open_=S.edit_open,
            on_open_change=S.set_edit_open,
            submit="Save customer",
            values=c,
        ),
        confirm_dialog(
            "Delete this customer?",
            "Their saved cards are removed and can no longer be charged. Their payments stay "
            "in your history. This cannot be undone.",
            "Delete customer",
            open_=S.delete_open,
            on_open_change=S.set_delete_open,
            on_ok=S.delete,
            keep="Cancel",
        ),
        confirm_dialog(
            "Remove this card?",
            "It can no longer be charged. Payments already made with it are not affected.",
            "Remove card",
            open_=S.remove_card_id != "",
            on_open_change=S.close_remove,
            on_ok=S.remove_card,
            keep="Cancel",
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Overview", size="4", as_="h2"),
                    fact("E-mail", c["email"]),
                    fact("Phone", c["phone_shown"]),
                    fact("Address", c["address"]),
                    fact("Customer since", c["since"]),
                    fact("Payments", c["payments"]),
                    fact("Last payment", c["last"]),
                    rx.text("Lifetime value", size="2", color_scheme="gray"),
                    rx.cond(
                        S.values.length() > 0,  # type: ignore[attr-defined]
                        rx.flex(
                            rx.foreach(S.values, lambda v: rx.badge(v, size="2", variant="soft")),
                            spacing="2",
                            wrap="wrap",
                        ),
                        rx.text("Nothing captured yet.", size="2"),
                    ),
                    spacing="2",
                    width="100%",
                ),
                width="100%",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Saved payment methods", size="4", as_="h2"),
                    rx.cond(
                        S.saved.length() > 0,  # type: ignore[attr-defined]
                        rx.vstack(rx.foreach(S.saved, _saved_card), spacing="3", width="100%"),
                        rx.text(
                            "No saved cards. Cards are saved through the API "
                            "(POST /api/customers/{id}/payment_methods).",
                            size="2",
                            color_scheme="gray",
                        ),
                    ),
                    rx.heading("Cards used in payments", size="3", as_="h3", margin_top="0.5rem"),
                    rx.cond(
                        S.methods.length() > 0,  # type: ignore[attr-defined]
                        rx.foreach(
                            S.methods,
                            lambda m: rx.box(
                                fact(m["card"], "exp. " + m["expiry"]),
                                rx.text(m["used"], size="1", color_scheme="gray"),
                                width="100%",
                            ),
                        ),
                        rx.text("No card used yet.", size="2", color_scheme="gray"),
                    ),
                    spacing="2",
                    width="100%",
                ),
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        section(
            "Subscriptions",
            rx.cond(
                S.subscriptions.length() > 0,  # type: ignore[attr-defined]
                plain_list(S.subscriptions, _subscription, "Subscriptions"),
                rx.text("No subscriptions.", size="2", color_scheme="gray"),
            ),
            rx.cond(
                S.more_subscriptions,
                rx.text("The newest 25 are shown.", size="1", color_scheme="gray"),
            ),
        ),
        rx.card(
            rx.vstack(
                rx.heading("Payments", size="4", as_="h2"),
                rx.cond(
                    S.payments.length() > 0,  # type: ignore[attr-defined]
                    payments_table(S.payments),
                    rx.text("No payments yet.", size="2", color_scheme="gray"),
                ),
                rx.cond(
                    S.more_payments,
                    rx.text(
                        "The latest 25 are shown; search the Payments page by e-mail "
                        "for all of them.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        noun="customer",
        list_href="/customers",
        list_title="Customers",
    )
