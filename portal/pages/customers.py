"""Customers: who pays, how often and how much; one customer's payments and cards."""

from __future__ import annotations

import reflex as rx

from portal.components.detail_page import detail_page, fact
from portal.components.layout import portal_page
from portal.components.list_page import list_error, list_table, paged_results, search_form
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN, payments_table
from portal.state.customers import CustomerDetailState, CustomersState


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
        rx.heading("Customers", size="7", as_="h1"),
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
                    "No customers yet. A customer is created when a payment carries the "
                    "customer's e-mail (customerEmail in the API, or the checkout form).",
                ),
                color_scheme="gray",
                size="2",
            ),
        ),
        spacing="4",
        width="100%",
    )


@portal_page("/customers/[customer_id]", "Customer", on_load=[CustomerDetailState.load])
def customer_detail() -> rx.Component:
    c = CustomerDetailState.customer
    return detail_page(
        CustomerDetailState,
        rx.heading(c["name"], size="7", as_="h1", overflow_wrap="anywhere"),
        rx.text(c["id"], size="1", color_scheme="gray", font_family="monospace"),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Overview", size="4", as_="h2"),
                    fact("E-mail", c["email"]),
                    fact("Country", c["country"]),
                    fact("Customer since", c["since"]),
                    fact("Payments", c["payments"]),
                    fact("Last payment", c["last"]),
                    rx.text("Lifetime value", size="2", color_scheme="gray"),
                    rx.cond(
                        CustomerDetailState.values.length() > 0,  # type: ignore[attr-defined]
                        rx.flex(
                            rx.foreach(
                                CustomerDetailState.values,
                                lambda v: rx.badge(v, size="2", variant="soft"),
                            ),
                            gap="2",
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
                        CustomerDetailState.methods.length() > 0,  # type: ignore[attr-defined]
                        rx.foreach(
                            CustomerDetailState.methods,
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
        rx.card(
            rx.vstack(
                rx.heading("Payments", size="4", as_="h2"),
                rx.cond(
                    CustomerDetailState.payments.length() > 0,  # type: ignore[attr-defined]
                    payments_table(CustomerDetailState.payments),
                    rx.text("No payments yet.", size="2", color_scheme="gray"),
                ),
                rx.cond(
                    CustomerDetailState.more_payments,
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
