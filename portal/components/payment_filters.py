"""The payments list's filters: status, currency, method, processor, risk, dates and search, each
choice in words and kept in the page's address."""

from __future__ import annotations

import reflex as rx

from backend.services import labels
from portal.components.list_page import search_form
from portal.components.payments_table import labelled_select
from portal.state.payments import (
    ALL,
    CUSTOM,
    DATE_CHOICES,
    GATEWAY_CHOICES,
    METHOD_CHOICES,
    RISK_CHOICES,
    STATUS_CHOICES,
    PaymentsState,
)

# The filters' choices in words (their values, in the address, stay codes).
STATUS_NAMES = {ALL: "All", **{c: labels.status(c) for c in STATUS_CHOICES if c != ALL}}


METHOD_NAMES = {ALL: "All", **{c: labels.words(c) for c in METHOD_CHOICES if c != ALL}}


GATEWAY_NAMES = {ALL: "All", **labels.GATEWAYS}


RISK_NAMES = {ALL: "All", **labels.RISK_DECISIONS}


def labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"), control, spacing="1", min_width="5.5rem"
    )


def date_input(label: str, html_id: str, value: rx.Var, on_change: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=html_id, class_name="pp-label", font_size="var(--font-size-1)"),
        rx.input(id=html_id, type="date", value=value, on_change=on_change, size="2"),
        spacing="1",
    )


def date_range_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Date"),
        rx.select.content(
            *(rx.select.item(label, value=key) for key, label in DATE_CHOICES.items())
        ),
        value=PaymentsState.date_range,
        on_change=PaymentsState.choose_date_range,
    )


def filters() -> rx.Component:
    return rx.vstack(
        search_form(
            PaymentsState,
            placeholder="Search id, e-mail, last 4 or amount",
            aria_label="Search payments",
            name="query",
        ),
        rx.flex(
            labelled(
                "Status",
                labelled_select(
                    STATUS_CHOICES,
                    names=STATUS_NAMES,
                    value=PaymentsState.status,
                    on_change=PaymentsState.choose_status,
                    label="Status",
                ),
            ),
            labelled(
                "Currency",
                labelled_select(
                    PaymentsState.currencies,
                    names={ALL: "All"},
                    value=PaymentsState.currency,
                    on_change=PaymentsState.choose_currency,
                    label="Currency",
                ),
            ),
            labelled(
                "Method",
                labelled_select(
                    METHOD_CHOICES,
                    names=METHOD_NAMES,
                    value=PaymentsState.method,
                    on_change=PaymentsState.choose_method,
                    label="Method",
                ),
            ),
            labelled(
                "Gateway",
                labelled_select(
                    GATEWAY_CHOICES,
                    names=GATEWAY_NAMES,
                    value=PaymentsState.gateway,
                    on_change=PaymentsState.choose_gateway,
                    label="Gateway",
                ),
            ),
            labelled(
                "Risk",
                labelled_select(
                    RISK_CHOICES,
                    names=RISK_NAMES,
                    value=PaymentsState.risk,
                    on_change=PaymentsState.choose_risk,
                    label="Risk",
                ),
            ),
            labelled("Date", date_range_select()),
            rx.cond(
                PaymentsState.date_range == CUSTOM,
                rx.fragment(
                    date_input(
                        "From",
                        "payments-from",
                        PaymentsState.date_from,
                        PaymentsState.set_date_from,
                    ),
                    date_input(
                        "To", "payments-to", PaymentsState.date_to, PaymentsState.set_date_to
                    ),
                ),
            ),
            spacing="3",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        rx.foreach(
            PaymentsState.notes,
            lambda note: rx.callout(note, icon="info", color_scheme="gray", size="1", width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def no_results() -> rx.Component:
    return rx.vstack(
        rx.cond(
            PaymentsState.filtered,
            rx.text("No payments match these filters.", color_scheme="gray", size="2"),
            rx.text(
                "No payments yet. Charge a test card through the API with your "
                "test key and it shows up here.",
                color_scheme="gray",
                size="2",
            ),
        ),
        rx.cond(
            PaymentsState.filtered,
            rx.button("Clear filters", variant="soft", on_click=PaymentsState.clear_filters),
        ),
        align="start",
    )


def range_problem() -> rx.Component:
    """Dates that cannot be applied: no list at all, rather than one that does not match."""
    return rx.callout(
        PaymentsState.range_problem,
        icon="calendar-x",
        color_scheme="amber",
        role="status",
        width="100%",
    )
