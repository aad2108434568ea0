"""Invoices: the list (number, customer, amount due and paid, status in words, date) filtered
by status; one invoice with its lines (proration credits negative), payment attempts and next
retry, the customer's hosted page and PDF, its timeline and actions (void, mark
uncollectible, retry the payment)."""

from __future__ import annotations

import reflex as rx

from portal.components.billing import (
    billing_detail_page,
    billing_list_page,
    confirm_dialog,
    facts_list,
    invoice_headers,
    invoice_row,
    section,
    timeline_card,
    tone_badge,
    two_columns,
)
from portal.components.layout import portal_page
from portal.components.list_page import list_table
from portal.state.invoices import STATUS_CHOICES, InvoiceDetailState, InvoicesState


@portal_page("/billing/invoices", "Invoices", on_load=[InvoicesState.load])
def invoices_list() -> rx.Component:
    return billing_list_page(
        InvoicesState,
        title="Invoices",
        intro="Every bill your subscriptions made: what was due, what was paid, and what is "
        "still being retried.",
        choices=STATUS_CHOICES,
        table=list_table(invoice_headers(), InvoicesState.rows, invoice_row),
        empty="No invoices yet. Subscriptions make one when they start and at each renewal.",
    )


def _line(line: rx.Var) -> rx.Component:
    return rx.table.row(
        # The engine's description names the period already ("… (Jan 6 to Feb 6, 2027)").
        rx.table.cell(rx.text(line["description"], size="2"), min_width="0"),
        rx.table.cell(rx.text(line["quantity"], size="2"), text_align="right"),
        rx.table.cell(
            rx.text(
                line["amount"],
                size="2",
                white_space="nowrap",
                color=rx.cond(line["credit"] != "", "var(--green-11)", "inherit"),
            ),
            text_align="right",
        ),
    )


def _lines_card() -> rx.Component:
    S = InvoiceDetailState
    return section(
        "Lines",
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Description"),
                        rx.table.column_header_cell("Qty", text_align="right"),
                        rx.table.column_header_cell("Amount", text_align="right"),
                    )
                ),
                rx.table.body(
                    rx.foreach(S.lines, _line),
                    rx.table.row(
                        rx.table.cell(rx.text("Total", weight="bold", size="2")),
                        rx.table.cell(""),
                        rx.table.cell(
                            rx.text(
                                S.invoice["total"], weight="bold", size="2", white_space="nowrap"
                            ),
                            text_align="right",
                        ),
                    ),
                ),
                size="2",
                width="100%",
            ),
            width="100%",
            overflow_x="auto",
        ),
        rx.text(
            "A credit for unused time on an earlier plan is negative.",
            size="1",
            color_scheme="gray",
        ),
    )


def _actions() -> rx.Component:
    S = InvoiceDetailState
    return rx.flex(
        rx.cond(
            S.invoice["hosted_url"] != "",
            rx.link(
                rx.button(rx.icon("external-link", size=16), "Customer's page", variant="soft"),
                href=S.invoice["hosted_url"],
                is_external=True,
            ),
        ),
        rx.cond(
            S.invoice["pdf_url"] != "",
            rx.link(
                rx.button(rx.icon("download", size=16), "PDF", variant="soft"),
                href=S.invoice["pdf_url"],
                is_external=True,
            ),
        ),
        rx.cond(
            S.can_manage,
            rx.fragment(
                rx.cond(
                    S.actions["retry"],
                    rx.button("Retry payment", on_click=S.retry),
                ),
                rx.cond(
                    S.actions["uncollectible"],
                    rx.button(
                        "Mark uncollectible",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.ask("uncollectible"),
                    ),
                ),
                rx.cond(
                    S.actions["void"],
                    rx.button("Void", variant="soft", color_scheme="red", on_click=S.ask("void")),
                ),
            ),
        ),
        wrap="wrap",
        spacing="2",
    )


def _confirm() -> rx.Component:
    S = InvoiceDetailState
    return confirm_dialog(
        S.confirm_title,
        S.confirm_words,
        S.confirm_action,
        open_=S.confirm != "",
        on_open_change=S.close_confirm,
        on_ok=S.confirmed,
    )


@portal_page("/billing/invoices/[invoice_id]", "Invoice", on_load=[InvoiceDetailState.load])
def invoice_detail() -> rx.Component:
    S = InvoiceDetailState
    inv = S.invoice
    return billing_detail_page(
        S,
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(
                        "Invoice " + inv["number"].to(str),
                        size=rx.breakpoints(initial="6", sm="7"),
                        as_="h1",
                    ),
                    tone_badge(inv["tone"], inv["status_label"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    inv["amount_due"] + " · ",
                    rx.link(inv["customer"], href="/customers/" + inv["customer_id"].to(str)),
                    rx.cond(
                        inv["subscription_id"] != "",
                        rx.fragment(
                            " · ",
                            rx.link(
                                "its subscription",
                                href="/billing/subscriptions/" + inv["subscription_id"].to(str),
                            ),
                        ),
                    ),
                    size="2",
                ),
                spacing="1",
                min_width="0",
            ),
            _actions(),
            justify="between",
            align="start",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        _confirm(),
        _lines_card(),
        two_columns(
            section("Details", facts_list(S.facts)),
            section("Payment", facts_list(S.attempts)),
        ),
        timeline_card(S.timeline),
        noun="invoice",
        list_href="/billing/invoices",
        list_title="Invoices",
    )
