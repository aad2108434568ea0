"""A headline figure with its change against the previous period."""

from __future__ import annotations

import reflex as rx


def kpi_card(item: rx.Var) -> rx.Component:
    trend = item["trend"]
    return rx.card(
        rx.vstack(
            rx.text(item["label"], size="2", color_scheme="gray"),
            rx.text(item["value"], size="5", weight="bold", class_name="pp-figure"),
            rx.text(
                item["delta"],
                size="1",
                color=rx.match(
                    trend, ("good", "var(--green-11)"), ("bad", "var(--red-11)"), "var(--gray-11)"
                ),
            ),
            spacing="1",
            min_width="0",
        ),
        role="group",
        aria_label=item["label"],
        width="100%",
        min_width="0",
    )


def kpi_grid(items: rx.Var) -> rx.Component:
    return rx.grid(
        rx.foreach(items, kpi_card),
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="3",
        width="100%",
    )
