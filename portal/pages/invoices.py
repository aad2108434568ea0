"""Invoices: the list (number, customer, amount due and paid, status in words, date) filtered
by status; one invoice with its lines (proration credits negative), payment attempts and next
retry, the customer's hosted page and PDF, its timeline and actions (void, mark
uncollectible, retry the payment)."""

from __future__ import annotations

import reflex as rx

from portal.components.billing import (
    facts_list,
    invoice_headers,
    invoice_row,
    status_filter,
    timeline_card,
    tone_badge,
)
from portal.components.billing_tabs import billing_tabs
from portal.components.detail_page import detail_page
from portal.components.forms import error_callout, notice_callout
from portal.components.layout import portal_page
from portal.components.list_page import list_error, list_table, paged_results
from portal.state.invoices import STATUS_CHOICES, InvoiceDetailState, InvoicesState


@portal_page("/billing/invoices", "Invoices", on_load=[InvoicesState.load])
def invoices_list() -> rx.Component:
    S = InvoicesState
    return rx.vstack(
        billing_tabs(),
        rx.flex(
            rx.heading("Invoices", size="7", as_="h1"),
            status_filter(S.status, STATUS_CHOICES, S.choose_status),
            justify="between",
            align="center",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        rx.text(
            "Every bill your subscriptions made: what was due, what was paid, and what is "
            "still being retried.",
            color_scheme="gray",
            size="2",
        ),
        list_error(S),
        paged_results(
            S,
            list_table(invoice_headers(), S.rows, invoice_row),
            rx.text(
                rx.cond(
                    S.status != "all",
                    "No invoice has this status.",
                    "No invoices yet. Subscriptions make one when they start and at each renewal.",
                ),
                color_scheme="gray",
                size="2",
            ),
        ),
        spacing="4",
        width="100%",
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
    return rx.card(
        rx.vstack(
            rx.heading("Lines", size="4", as_="h2"),
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
                                    S.invoice["total"],
                                    weight="bold",
                                    size="2",
                                    white_space="nowrap",
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
            spacing="3",
            width="100%",
        ),
        width="100%",
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
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(S.confirm_title),
            rx.alert_dialog.description(S.confirm_words, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(S.confirm_action, color_scheme="red", on_click=S.confirmed)
                ),
                spacing="2",
                justify="end",
                wrap="wrap",
                margin_top="1rem",
            ),
            max_width="28rem",
        ),
        open=S.confirm != "",
        on_open_change=S.close_confirm,
    )


@portal_page("/billing/invoices/[invoice_id]", "Invoice", on_load=[InvoiceDetailState.load])
def invoice_detail() -> rx.Component:
    S = InvoiceDetailState
    inv = S.invoice
    return rx.vstack(
        billing_tabs(),
        detail_page(
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
            error_callout(S.error),
            notice_callout(S.notice),
            _confirm(),
            _lines_card(),
            rx.grid(
                rx.card(
                    rx.vstack(
                        rx.heading("Details", size="4", as_="h2"),
                        facts_list(S.facts),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                    min_width="0",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Payment", size="4", as_="h2"),
                        facts_list(S.attempts),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            timeline_card(S.timeline),
            noun="invoice",
            list_href="/billing/invoices",
            list_title="Invoices",
        ),
        spacing="4",
        width="100%",
    )
