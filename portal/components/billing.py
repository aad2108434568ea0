"""Pieces the billing pages share: a status badge coloured by its tone (the words come from
the service: "Past due", never "past_due"), the invoices table, a list of label-value facts
and the timeline."""

from __future__ import annotations

import reflex as rx

from portal.components.detail_page import fact
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN

TONE_COLORS = {"good": "green", "info": "blue", "warning": "amber", "bad": "red"}


def tone_badge(tone: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(
        label,
        color_scheme=rx.match(tone, *TONE_COLORS.items(), "gray"),
        white_space="nowrap",
    )


def status_filter(value: rx.Var, choices: list[tuple[str, str]], on_change: object) -> rx.Component:
    """A labelled select of statuses in words (the value stays the code)."""
    return rx.hstack(
        rx.el.label("Status", html_for="status-filter", class_name="pp-label"),
        rx.select.root(
            rx.select.trigger(id="status-filter", aria_label="Status"),
            rx.select.content(*(rx.select.item(words, value=code) for code, words in choices)),
            value=value,
            on_change=on_change,
        ),
        align="center",
        spacing="2",
    )


def invoice_row(i: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                i["number"],
                href="/billing/invoices/" + i["id"].to(str),
                weight="medium",
                white_space="nowrap",
                aria_label="Invoice " + i["number"].to(str),
            ),
            rx.text(i["date"], size="1", color_scheme="gray", white_space="nowrap"),
        ),
        rx.table.cell(
            rx.link(i["customer"], href="/customers/" + i["customer_id"].to(str), size="2"),
            display=PHONE_HIDDEN,
            min_width="0",
        ),
        rx.table.cell(rx.text(i["amount_due"], white_space="nowrap")),
        rx.table.cell(rx.text(i["amount_paid"], white_space="nowrap"), display=SMALL_HIDDEN),
        rx.table.cell(tone_badge(i["tone"], i["status_label"])),
    )


def invoice_headers() -> list[rx.Component]:
    return [
        rx.table.column_header_cell("Invoice"),
        rx.table.column_header_cell("Customer", display=PHONE_HIDDEN),
        rx.table.column_header_cell("Due"),
        rx.table.column_header_cell("Paid", display=SMALL_HIDDEN),
        rx.table.column_header_cell("Status"),
    ]


def invoices_table(rows: rx.Var) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*invoice_headers())),
            rx.table.body(rx.foreach(rows, invoice_row)),
            size="2",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def facts_list(facts: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.foreach(facts, lambda f: fact(f["label"], f["value"])),
        spacing="2",
        width="100%",
    )


def timeline_card(entries: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Timeline", size="4", as_="h2"),
            rx.cond(
                entries.length() > 0,  # type: ignore[attr-defined]
                rx.el.ol(
                    rx.foreach(
                        entries,
                        lambda e: rx.el.li(
                            rx.text(e["title"], size="2", weight="medium"),
                            rx.cond(e["detail"] != "", rx.text(e["detail"], size="2")),
                            rx.text(
                                e["at"] + rx.cond(e["actor"] != "", " · " + e["actor"], ""),
                                size="1",
                                color_scheme="gray",
                            ),
                            style={
                                "listStyle": "none",
                                "borderLeft": "2px solid var(--gray-5)",
                                "paddingLeft": "0.75rem",
                            },
                        ),
                    ),
                    style={
                        "margin": "0",
                        "padding": "0",
                        "display": "flex",
                        "flexDirection": "column",
                        "gap": "0.75rem",
                        "width": "100%",
                    },
                ),
                rx.text("Nothing recorded yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
