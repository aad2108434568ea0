"""Payments: the searchable list, and one payment with its money, risk, refunds and attempts."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_page
from portal.components.payments_table import labelled_select, payments_table, status_badge
from portal.state.payments import STATUS_CHOICES, PaymentDetailState, PaymentsState


def filters() -> rx.Component:
    return rx.flex(
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search id, e-mail, last 4 or amount",
                    value=PaymentsState.query,
                    on_change=PaymentsState.set_query,
                    name="query",
                    aria_label="Search payments",
                    width="100%",
                ),
                rx.button("Search", type="submit", variant="soft"),
                width="100%",
            ),
            on_submit=PaymentsState.submit_search,
            flex="1",
            min_width="0",
        ),
        labelled_select(
            STATUS_CHOICES,
            value=PaymentsState.status,
            on_change=PaymentsState.choose_status,
            label="Status",
        ),
        gap="2",
        width="100%",
        direction=rx.breakpoints(initial="column", sm="row"),
    )


@portal_page("/payments", "Payments", on_load=[PaymentsState.load])
def payments_list() -> rx.Component:
    return rx.vstack(
        rx.heading("Payments", size="7", as_="h1"),
        filters(),
        rx.cond(
            PaymentsState.error != "",
            rx.callout(PaymentsState.error, color_scheme="red", role="alert"),
        ),
        rx.card(
            rx.cond(
                PaymentsState.rows.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    payments_table(PaymentsState.rows),
                    rx.cond(
                        PaymentsState.has_more,
                        rx.button("Load more", variant="soft", on_click=PaymentsState.load_more),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.text(
                    "No payments match. Clear the search or choose another status.",
                    color_scheme="gray",
                    size="2",
                ),
            ),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(value, size="2", weight="medium", text_align="right"),
        width="100%",
    )


def money_card() -> rx.Component:
    p = PaymentDetailState.payment
    return rx.card(
        rx.vstack(
            rx.heading("Money", size="4", as_="h2"),
            fact("Amount", p["amount"]),
            fact("Captured", p["captured"]),
            fact("Refunded", p["refunded"]),
            rx.separator(),
            fact("Platform fee", p["platform_fee"]),
            fact("Gateway fee", p["gateway_fee"]),
            fact("Net to you", p["net"]),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def details_card() -> rx.Component:
    p = PaymentDetailState.payment
    return rx.card(
        rx.vstack(
            rx.heading("Details", size="4", as_="h2"),
            fact("Customer", p["customer"]),
            fact("Card", p["card"]),
            fact("Expiry", p["expiry"]),
            fact("Gateway", p["gateway"]),
            fact("Order", p["order"]),
            fact("Risk", p["risk_decision"] + " (score " + p["risk_score"].to(str) + ")"),
            rx.foreach(
                PaymentDetailState.risk_reasons,
                lambda reason: rx.badge(reason, color_scheme="amber", variant="soft"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def refunds_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Refunds", size="4", as_="h2"),
            rx.cond(
                PaymentDetailState.refunds.length() > 0,  # type: ignore[attr-defined]
                rx.foreach(
                    PaymentDetailState.refunds,
                    lambda r: fact(
                        r["date"], r["amount"] + " · " + r["status"] + " · " + r["reason"]
                    ),
                ),
                rx.text("No refunds.", size="2", color_scheme="gray"),
            ),
            rx.heading("Gateway attempts", size="4", as_="h2", margin_top="0.5rem"),
            rx.foreach(
                PaymentDetailState.attempts,
                lambda a: fact(
                    a["date"],
                    a["operation"]
                    + " on "
                    + a["gateway"]
                    + ": "
                    + a["outcome"]
                    + " "
                    + a["code"]
                    + " ("
                    + a["latency"]
                    + ")",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/payments/[payment_id]", "Payment", on_load=[PaymentDetailState.load])
def payment_detail() -> rx.Component:
    p = PaymentDetailState.payment
    return rx.cond(
        ~PaymentDetailState.loaded,
        rx.center(rx.spinner(size="3"), padding="4rem", aria_label="Loading the payment"),
        _detail(p),
    )


def _detail(p: rx.Var) -> rx.Component:
    return rx.cond(
        PaymentDetailState.not_found,
        rx.vstack(
            rx.heading("Payment not found", size="6", as_="h1"),
            rx.text("It may belong to another account or mode.", color_scheme="gray"),
            rx.link("Back to payments", href="/payments"),
        ),
        rx.vstack(
            rx.link(
                rx.hstack(rx.icon("arrow-left", size=16), rx.text("Payments")),
                href="/payments",
                size="2",
            ),
            rx.hstack(
                rx.heading(p["amount"], size="7", as_="h1"),
                status_badge(p["status"], p["status_label"]),
                align="center",
                wrap="wrap",
            ),
            rx.text(p["id"], size="1", color_scheme="gray", font_family="monospace"),
            rx.cond(p["failure"] != "", rx.callout(p["failure"], color_scheme="red")),
            rx.grid(
                money_card(),
                details_card(),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            refunds_card(),
            spacing="4",
            width="100%",
        ),
    )
