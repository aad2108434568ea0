"""Pieces the billing pages share: a status badge coloured by its tone (the words come from
the service: "Past due", never "past_due"), the invoices table, a list of label-value facts,
the timeline, sections, confirm dialogs, and the frames of a billing list and a billing
object's page."""

from __future__ import annotations

import reflex as rx

from portal.components.billing_tabs import billing_tabs
from portal.components.detail_page import detail_page, fact
from portal.components.forms import error_callout, notice_callout
from portal.components.list_page import list_error, paged_results
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN

# A list (ul, ol) without bullets or indent, its items 0.75rem apart.
LIST_STYLE = {
    "margin": "0",
    "padding": "0",
    "width": "100%",
    "display": "flex",
    "flexDirection": "column",
    "gap": "0.75rem",
}
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
    return section(
        "Timeline",
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
                style=LIST_STYLE,
            ),
            rx.text("Nothing recorded yet.", size="2", color_scheme="gray"),
        ),
    )


def section(title: str, *children: rx.Component) -> rx.Component:
    """A card with an h2 heading over its content."""
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        min_width="0",
    )


def two_columns(*children: rx.Component) -> rx.Component:
    """One column on phones, two from tablets on."""
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"
    )


def plain_list(items: rx.Var, render: object, label: str | rx.Var) -> rx.Component:
    """A real list (ul) without bullets or indent, its items 0.75rem apart."""
    return rx.el.ul(
        rx.foreach(items, render),  # type: ignore[arg-type]
        aria_label=label,
        style=LIST_STYLE,
    )


def confirm_dialog(
    title: str | rx.Var,
    words: str | rx.Var,
    action: str | rx.Var,
    *,
    open_: rx.Var,
    on_open_change: object,
    on_ok: object,
    keep: str = "Keep it",
) -> rx.Component:
    """Ask before what cannot be undone: `keep` closes, the red button acts."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(words, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button(keep, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(action, color_scheme="red", on_click=on_ok)),
                spacing="2",
                justify="end",
                wrap="wrap",
                margin_top="1rem",
            ),
            max_width="28rem",
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def billing_list_page(
    state: type,  # a StatusListState
    *,
    title: str,
    intro: str,
    choices: list[tuple[str, str]],
    table: rx.Component,
    empty: str,
) -> rx.Component:
    """A billing list: the tabs, the title with its status filter, the rows and Load more."""
    return rx.vstack(
        billing_tabs(),
        rx.flex(
            rx.heading(title, size="7", as_="h1"),
            status_filter(state.status, choices, state.choose_status),
            justify="between",
            align="center",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        rx.text(intro, color_scheme="gray", size="2"),
        list_error(state),
        paged_results(
            state,
            table,
            rx.text(
                rx.cond(state.status != "all", f"No {title.lower()} with this status.", empty),
                color_scheme="gray",
                size="2",
            ),
        ),
        spacing="4",
        width="100%",
    )


def billing_detail_page(
    state: type,  # a BillingDetailState
    header: rx.Component,
    *children: rx.Component,
    noun: str,
    list_href: str,
    list_title: str,
) -> rx.Component:
    """A billing object's page: the tabs, then (once loaded) its header, the action's error
    or notice, and its sections."""
    return rx.vstack(
        billing_tabs(),
        detail_page(
            state,
            header,
            error_callout(state.error),
            notice_callout(state.notice),
            *children,
            noun=noun,
            list_href=list_href,
            list_title=list_title,
        ),
        spacing="4",
        width="100%",
    )
