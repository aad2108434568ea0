"""The frame every detail page of the money pages shares (one customer, dispute or payment):
the spinner until on_load answers, "not found" for an unknown or another account's id, and
the link back to the list above the found record; plus its label-value fact rows."""

from __future__ import annotations

import reflex as rx


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(value, size="2", weight="medium", text_align="right"),
        width="100%",
    )


def detail_page(
    state: type,  # has `loaded` and `not_found`
    *children: rx.Component,
    noun: str,
    list_href: str,
    list_title: str,
) -> rx.Component:
    return rx.cond(
        ~state.loaded,
        rx.center(rx.spinner(size="3"), padding="4rem", aria_label=f"Loading the {noun}"),
        rx.cond(
            state.not_found,
            rx.vstack(
                rx.heading(f"{noun.capitalize()} not found", size="6", as_="h1"),
                rx.text("It may belong to another account or mode.", color_scheme="gray"),
                rx.link(f"Back to {list_title.lower()}", href=list_href),
            ),
            rx.vstack(
                rx.link(
                    rx.hstack(rx.icon("arrow-left", size=16), rx.text(list_title)),
                    href=list_href,
                    size="2",
                ),
                *children,
                spacing="4",
                width="100%",
            ),
        ),
    )
