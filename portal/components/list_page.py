"""Pieces every keyset-paged list page shares: the search box, the error callout, the
scrolling table and the results card with "Load more", the empty state and the spinner.
They read the standard fields of portal.state.keyset_list states. Also the card pages' grid
(products, payment links): an empty state, then one card an item in one or two columns."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx


def search_form(
    state: type,  # a SearchableListState
    *,
    placeholder: str,
    aria_label: str,
    name: str | None = None,
) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder=placeholder,
                value=state.query,
                on_change=state.set_query,
                aria_label=aria_label,
                width="100%",
                **({"name": name} if name else {}),
            ),
            rx.button("Search", type="submit", variant="soft"),
            width="100%",
        ),
        on_submit=state.submit_search,
        width="100%",
    )


def list_error(state: type) -> rx.Component:
    return rx.cond(
        state.error != "",
        rx.callout(state.error, color_scheme="red", role="alert", width="100%"),
    )


def list_table(
    headers: list[rx.Component], rows: rx.Var, row: Callable[[rx.Var], rx.Component]
) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*headers)),
            rx.table.body(rx.foreach(rows, row)),
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def paged_results(state: type, table: rx.Component, empty: rx.Component) -> rx.Component:
    """The table and "Load more" when there are rows; else the empty state once loaded."""
    return rx.card(
        rx.cond(
            state.rows.length() > 0,
            rx.vstack(
                table,
                rx.cond(
                    state.has_more,
                    rx.button("Load more", variant="soft", on_click=state.load_more),
                ),
                align="center",
                width="100%",
            ),
            rx.cond(
                state.loaded,
                empty,
                rx.center(rx.spinner(), padding="2rem", width="100%"),
            ),
        ),
        width="100%",
    )


def card_grid(
    items: rx.Var,
    card: Callable[[rx.Var], rx.Component],
    *,
    show_empty: rx.Var,
    empty_title: str,
    empty_hint: rx.Var | str,
) -> rx.Component:
    """The items as cards, one column on phones and two from tablets on; while `show_empty`
    holds, a card saying there are none yet and how to make one instead."""
    return rx.fragment(
        rx.cond(
            show_empty,
            rx.card(
                rx.vstack(
                    rx.text(empty_title, weight="bold"),
                    rx.text(empty_hint, size="2"),
                ),
                width="100%",
            ),
        ),
        rx.grid(
            rx.foreach(items, card),
            columns=rx.breakpoints(initial="1", md="2"),
            width="100%",
            style={"gap": "0.75rem"},
        ),
    )
