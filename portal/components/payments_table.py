"""The table of payments shown on the dashboard and the payments page."""

from __future__ import annotations

import reflex as rx

STATUS_COLORS = {
    "succeeded": "green",
    "partially_refunded": "blue",
    "refunded": "gray",
    "failed": "red",
    "authorized": "amber",
    "voided": "gray",
    "disputed": "orange",
    "requires_action": "violet",
    "processing": "cyan",
    "requires_payment_method": "gray",
}

PHONE_HIDDEN = ["none", "none", "table-cell"]
SMALL_HIDDEN = ["none", "table-cell"]


def status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"))


def _row(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                p["amount"],
                href="/payments/" + p["id"].to(str),
                weight="medium",
                aria_label="Payment " + p["amount"].to(str) + " " + p["customer"].to(str),
            ),
        ),
        rx.table.cell(status_badge(p["status"], p["status_label"])),
        rx.table.cell(p["customer"], display=PHONE_HIDDEN),
        rx.table.cell(p["card"], display=SMALL_HIDDEN),
        rx.table.cell(
            rx.text(p["date"], size="2", white_space="nowrap"),
            rx.text(p["time"], size="1", color_scheme="gray"),
        ),
        # Rows pushed by the live feed flash once.
        class_name=rx.cond(p["fresh"] == "1", "pp-fresh", ""),
    )


def payments_table(rows: rx.Var) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Amount"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Customer", display=PHONE_HIDDEN),
                    rx.table.column_header_cell("Card", display=SMALL_HIDDEN),
                    rx.table.column_header_cell("Date"),
                )
            ),
            rx.table.body(rx.foreach(rows, _row)),
            size="2",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def labelled_select(
    items: list[str] | rx.Var,
    *,
    value: rx.Var,
    on_change: object,
    label: str,
    names: dict[str, str] | None = None,
) -> rx.Component:
    """A select whose trigger carries an accessible name (the high-level rx.select drops it);
    `names` gives a static list's items their words (the value stays the code)."""
    options = (
        [rx.select.item((names or {}).get(item, item), value=item) for item in items]
        if isinstance(items, list)
        else [
            rx.foreach(
                items,
                lambda item: rx.select.item(
                    rx.match(item, *(names or {}).items(), item) if names else item, value=item
                ),
            )
        ]
    )
    return rx.select.root(
        rx.select.trigger(aria_label=label),
        rx.select.content(*options),
        value=value,
        on_change=on_change,
    )
